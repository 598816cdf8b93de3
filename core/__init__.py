"""Pure domain core: messages, roster, the Room state machine, deadlines and metrics.

Nothing in this package imports Ray or Redis or does I/O; the shells in actors/, store/,
connectors/ and web/ translate to and from these types.
"""
