"""session_bot plugin workers in Python."""
