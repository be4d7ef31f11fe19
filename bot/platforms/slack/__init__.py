"""The Slack platform: Bolt for inbound, Block Kit for outbound.

Every Slack import lives under this package.
"""
