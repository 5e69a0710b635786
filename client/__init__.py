"""The user side: identities, the agent, project files and commands."""
