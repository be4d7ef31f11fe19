"""The Microsoft Teams platform; every botbuilder import lives here."""
