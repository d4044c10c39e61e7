"""Infrastructure the platform runs on: real servers from env vars, else embedded ones."""
