"""The rules of the domain. Handlers parse and render; services decide and store."""
