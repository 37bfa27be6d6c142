"""Benchmarks: each compares PetCare DBA Admin with a baseline measured in the same run."""
