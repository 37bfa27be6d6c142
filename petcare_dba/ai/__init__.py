"""AI assistant: provider protocol, providers, context builder and tools."""
