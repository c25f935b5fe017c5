"""The project's deterministic sample data and its generator."""
