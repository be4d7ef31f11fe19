"""What a post must show before a card calls it positive, and what forbids it.

A complaint shown as praise is the harmful error; praise shown as neutral the
cheap one. VADER scores politeness ("hope you're well", "kindly", "thanks in
advance") and the words of a wish ("I'd love a refund") as warmth, so a polite
complaint the complaint lexicon misses reads positive. Two groups, by
category rather than by post, keep it neutral:

- ``ACCLAIM``: an expression of praise. Positive needs one (besides VADER's
  score): thanks *for* something, love, great/amazing service, recommend,
  well done, shout-out, 10/10, a heart. A closing "thanks", "cheers" or "kind
  regards" is manners, not praise.
- ``DOUBT``: a sign of trouble too soft to call a complaint: a problem noun
  beside a negation or a wait ("order … still", "the engineer didn't"), a
  question about a problem ("why is…", "is it normal…", "any update"), a
  request to fix ("could you please look into"), understatement ("a bit
  disappointed", "not ideal", "could be better"), a first-person loss ("I
  lost", "I was charged", "I've been waiting"), praise with a catch
  ("otherwise", "shame", "apart from"), and irony markers after praise ("love
  that for me", "very generous", "if you enjoy").

Every entry starts at a word, like the rest of the lexicon: both groups are
scanned in one pass (:mod:`bot.core.complaint_scan`), and only for a post
that could still show positive (:func:`bot.core.complaints.signals`).
"""

from __future__ import annotations

_NOUN = (
    r"(?:orders?|parcels?|packages?|deliver(?:y|ies)|refunds?|bills?|charges?|fees?|payments?|"
    r"accounts?|app|login|card|flights?|trains?|bus|signal|connection|internet|broadband|wifi|"
    r"engineer|callback|replacement|booking|reservation|bags?|suitcase|luggage|items?|seat|"
    r"tickets?|meter|supply|servers?|crash(?:es)?|bug|code|discount|slot|tracking)"
)
_NOT = (
    r"(?:never|still|not|no|yet|hasn'?t|haven'?t|didn'?t|doesn'?t|won'?t|can'?t|isn'?t|"
    r"wasn'?t|weren'?t|cannot|nothing|pending)"
)
_WORDS = r"(?:a|an|two|three|four|five|six|seven|several|many|a few|over a)"
_SPAN = rf"(?:\d+|{_WORDS})"
_UNIT = r"(?:hours?|days?|nights?|weeks?|fortnight|months?)"

#: Praise a card may call positive. Manners ("thanks in advance", "cheers",
#: "hope you're well") and wishes ("I'd love", "would appreciate") are not.
ACCLAIM = (
    r"(?:thanks?|thank you|thankyou|ty)(?: so much| a lot| again| very much)? (?:for|to)\b|"
    r"(?:massive|huge|big|many|special|all the) thanks|\bthankful\b|\bgrateful\b|"
    r"(?<!'d )(?<!would )(?<!to )(?:love|loved|loving|lovely|adore)\b|\bobsessed\b",
    r"(?:great|amazing|brilliant|fantastic|excellent|incredible|superb|wonderful|perfect|"
    r"awesome|outstanding|gorgeous|beautiful|stunning|delicious|elite|spotless|seamless|"
    r"flawless|smooth(?:est)?|unreal|impressed|impressive|stellar|faultless|lush|gem|fab)\b",
    r"recommend|well done|good job|great job|nice one|shout ?-?out|kudos|props to|hats off|"
    r"10/10|legends?\b|heroe?s?\b|stars\b|(?:a |you'?re a |absolute )star\b|angels?\b|"
    r"lifesaver|appreciated\b|(?<!would )appreciate (?:you|it|the|this|that|all)|"
    r"best\b|(?:so|really|very|as) (?:good|nice|kind|helpful|quick|fast|easy)\b|"
    r"(?:nicer|better|faster|cheaper|easier) than|happy with|pleased with|delighted|chuffed|"
    r"made my|above and beyond|(?:huge |massive |big )?respect\b|nailed it|class act|"
    r"a dream\b|worth (?:every|it)|can'?t fault|no complaints|\bfinally works\b|"
    r"(?:genius|useful|cute|comfy|haven|deserves?|appreciation|helped|saved|remembered)\b|"
    r"(?:much |so much |way |even )?better\b|on time\b|(?:is|are) back\b",
)

#: Trouble too soft to call a complaint that keeps praise words neutral.
DOUBT = (
    # A problem noun beside a negation or a wait, either way round.
    rf"{_NOUN}\b[^.!?]{{0,40}}\b{_NOT}\b",
    rf"{_NOT}\b(?! (?:fault|complain|recommend|wait|beat))[^.!?]{{0,25}}\b{_NOUN}\b",
    # A time spent waiting: "for 3 days", "since Monday", "it's been 30 days".
    rf"(?:for|since|after|over|been|it'?s been|that was) {_SPAN} {_UNIT}\b|"
    rf"\d+ {_UNIT} (?:ago|now|later|and|without|with no)\b|"
    rf"{_WORDS} {_UNIT} (?:ago|now|later|and|without|with no)\b|since (?:the|last|launch|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|june|july|march|\d)",
    # A question about a problem.
    r"why (?:is|was|are|were|did|does|do|has|have|am|would|can'?t|won'?t|isn'?t|doesn'?t|"
    r"didn'?t(?! (?:i|we) )|hasn'?t)\b|is (?:it|this|that) (?:normal|supposed|meant|right)\b|"
    r"any (?:update|news|eta|idea|word|chance)\b|how long (?:does|do|will|is|until|should|"
    r"has|have|must|can)\b|when (?:will|can|do|does) (?:i|my|we|our|it|this)\b|"
    r"who (?:do|can|should) (?:i|we) (?:contact|talk|speak|call|email)\b|"
    r"is (?:there|it) (?:a|an|any) (?:problem|issue|outage|fault)\b",
    # A request to fix something.
    r"(?:please|pls|plz|kindly|could you|can you|would you|can someone|could someone)\b"
    r"[^.!?]{0,25}\b(?:fix|sort|stop|look (?:into|at)|check|refund|replace|cancel|remove|"
    r"call me|help|explain|send (?:me )?(?:a|the|my))\b|\bhelp (?:me|us|pls|please)\b|"
    r"(?:would|i'?d|we'?d) (?:just )?(?:like|love|appreciate) (?:my|the|a|an|it|some|to)\b|"
    r"actually (?:worked|works|arrived|came|used|turned up|answered|showed up|delivered|"
    r"fixed|refunded)\b",
    # Understatement and praise with a catch.
    r"(?:a (?:bit|little|tad)|slightly|mildly|somewhat|bit) (?:of a )?(?:disappoint\w*|annoy\w*|"
    r"frustrat\w*|much|off|let down|concerned|worried|confused|gutted|miffed|irritat\w*|upset|"
    r"sad|rubbish|pricey|ruined|of a letdown)\b|"
    r"not (?:ideal|great|the best|amazing|good|brilliant|ok|okay|cool|fun|nice)\b|"
    r"could (?:be|have been|do) better|leaves? a lot to be desired|"
    r"not to (?:complain|moan|be dramatic|be that person|be rude|nag)\b|small thing,? but\b|"
    r"thought you should know|(?:i )?miss the old|otherwise\b|apart from|except (?:that|the|"
    r"for|when)\b|sadly|unfortunately|(?:a |such a |what a |just a )?(?:shame|pity)\b|"
    r"less (?:loving|happy|impressed)|if only\b|though\W*$|wish (?:it|you|they|the|i)\b|"
    r"(?:would|it'?d) be (?:nice|nicer|great|better|sweeter) if\b|usually\b|want to like\b|"
    r"(?:i'?d|would) love to (?:recommend|like|say)",
    # A first-person loss: "I lost", "I was charged", "I've been waiting".
    r"(?<!before )(?:i|we|i'?ve|we'?ve|i'?m|we'?re|i have|we have)\b (?:just |now |also )?"
    r"(?:lost|been charged|was charged|were charged|got charged|been waiting|been on hold|"
    r"waited|never got|didn'?t get|haven'?t (?:had|got|received|heard)|can'?t (?:get|find|use|"
    r"access|log)|still (?:can'?t|don'?t|haven'?t))\b",
    # Paid and still billed, cut off.
    r"(?:already|had already|have already) (?:paid|cancell?ed|returned|sent|told|reported)\b|"
    r"cut (?:off|me off|us off)\b|disconnect",
    # Irony markers after praise.
    r"love that for (?:me|us)|if you (?:enjoy|like|love)\b|(?:very|so|how|really) (?:generous|"
    r"thoughtful|soothing|considerate)\b|such a (?:pleasure|treat|joy)\b|(?:kind|sweet|nice|good) "
    r"of (?:you|them|@)|bless (?:you|them|'?em|u)\b|truly\b\W*$",
)

#: Signs that are not words: laughing at one's own praise, a clown, applause
#: beside trouble is counted by :mod:`bot.core.complaints` (sincere applause
#: is frequent).
DOUBT_EMOJI = ("\U0001f602", "\U0001f923", "\U0001f921", "\U0001f605")
#: Praise without words: hearts, heart eyes, raised hands, sparkles, 100.
ACCLAIM_EMOJI = (
    "\u2764",
    "\U0001f60d",
    "\U0001f64c",
    "\U0001f970",
    "\U0001f979",
    "\u2728",
    "\U0001f4af",
    "\U0001f499",
    "\U0001f49a",
    "\U0001f49c",
    "\U0001f3c6",
    "\U0001f495",
    "\U0001f496",
    "\U0001f389",
    "\U0001f973",
)
