"""Octoroute: one OpenAI-style endpoint in front of fast, balanced and deep local LLM tiers."""

__version__ = "0.1.0"
