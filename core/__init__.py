"""Pure domain core: messages, the roster, the Room state machine (clocks and episodes) and metrics.

Nothing in this package does I/O or imports anything else from the project: policies/ builds on
these types, and the shells in actors/, store/, connectors/ and web/ translate to and from them.
"""
