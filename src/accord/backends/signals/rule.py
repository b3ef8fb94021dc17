"""What a rule hands back to be posted once its change is committed."""

Signal = tuple[str, str]
"""(waiter id, message) to post to a mailbox once the change is committed."""
