"""Chat shorthand and social-network words, spelled out as guidelines would write them.

People ask the bot the way they chat ("can i dm a journo abt this pic?") while
guidelines are written in plain words. The index uses this table only for a query
word that is not in the index: such a word is replaced by its plain equivalent. A
word the guidelines use themselves is never replaced.

The table is general chat and social-media vocabulary, not a list of the eval
questions' words; ``bench/ask_eval.py`` reports retrieval with and without it.
"""

from __future__ import annotations

SHORTHAND: dict[str, str] = {
    # What the networks call posting and sharing.
    "tweet": "post",
    "tweets": "posts",
    "tweeted": "posted",
    "tweeting": "posting",
    "retweet": "share",
    "retweets": "shares",
    "retweeted": "shared",
    "retweeting": "sharing",
    "rt": "share",
    "repost": "share",
    "reposted": "shared",
    "reposting": "sharing",
    "regram": "share",
    "toot": "post",
    "story": "post",
    "reel": "video",
    "reels": "videos",
    # The networks' nicknames.
    "insta": "instagram",
    "ig": "instagram",
    "fb": "facebook",
    "li": "linkedin",
    "yt": "youtube",
    # Messages.
    "dm": "direct message",
    "dms": "direct messages",
    "dmed": "direct message",
    "dming": "direct message",
    "pm": "private message",
    "pms": "private messages",
    "msg": "message",
    "msgs": "messages",
    "convo": "conversation",
    "convos": "conversations",
    "thread": "conversation",
    # Media.
    "pic": "photo",
    "pics": "photos",
    "selfie": "photo",
    "selfies": "photos",
    "vid": "video",
    "vids": "videos",
    "screencap": "screenshot",
    # Time.
    "hrs": "hours",
    "mins": "minutes",
    "wk": "week",
    "wks": "weeks",
    "yr": "year",
    "yrs": "years",
    "asap": "immediately",
    "eod": "end of day",
    "wfh": "working from home",
    "ooo": "out of office",
    # People and roles.
    "journo": "journalist",
    "journos": "journalists",
    "comms": "communications",
    "exec": "executive",
    "execs": "executives",
    "mgr": "manager",
    "coworker": "colleague",
    "coworkers": "colleagues",
    "workmate": "colleague",
    "workmates": "colleagues",
    "cust": "customer",
    "custs": "customers",
    # Business words.
    "promo": "promotion",
    "promos": "promotions",
    "biz": "business",
    "acct": "account",
    "accts": "accounts",
    "info": "information",
    "bio": "profile",
    "legit": "genuine",
    # Security and privacy.
    "pw": "password",
    "pwd": "password",
    "passwd": "password",
    "2fa": "two-factor authentication",
    "mfa": "multi-factor authentication",
    "gdpr": "data protection",
    "pii": "personal data",
    # AI assistants.
    "chatgpt": "ai tool",
    "gpt": "ai tool",
    "llm": "ai tool",
    "llms": "ai tools",
    "genai": "generative ai",
    "copilot": "ai tool",
    "gemini": "ai tool",
    "claude": "ai tool",
}
