"""Speed and scale measurements against a baseline measured in the same run."""
