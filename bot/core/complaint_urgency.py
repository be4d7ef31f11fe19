"""The urgency lexicon: what makes a post need a human fast.

Curated for Playcaller (Apache-2.0, like the project), in the same form as
:mod:`bot.core.complaint_lexicon`: regular expressions over the lower-cased
text with straight apostrophes, each starting at a word. ``URGENT`` is urgent
on its own, ``PRESS`` is a journalist's deadline (urgent, reporting rather
than complaining), ``STAKES`` make a complaint urgent.
"""

from __future__ import annotations

#: With a complaint, stakes that make it urgent: health, bereavement,
#: vulnerable people, large sums.
STAKES = (
    r"funeral|surgery|hospital|medicine|medication|insulin|oxygen|pregnan|disabled|"
    r"wheelchair|newborn|\brent\b|salary|wages|passport|\bvisa\b|in my name|fraud|\bfind (?:her|"
    r"him|them|my)\b|"
    r"\d+ ?(?:yo|year old|years old)\b|\b(?:she|he)'?s (?:[6-9]\d|1\d\d)\b|"
    r"\b(?:mum|mother|dad|father|gran|grandad|grandma|nan) is (?:[6-9]\d|1\d\d)\b|"
    r"\bimmediately\b|\bnurse\b|\bcarer\b|careline|fall alarm|nebuli[sz]er|epipen|"
    r"allerg|panic attack|unaccompanied|restraining order|lives alone|"
    r"\bin (?:an|1|one|two|2|\d+) (?:hour|hr|min|mins|minutes)\b|\bat the (?:checkout|till|gate)\b|"
    r"travell?ing alone|\d+k followers|keep posting|"
    r"going to the (?:press|media|papers)|(?:contacted|contacting|told) the (?:press|media|papers)|"
    r"\bmy (?:dog|cat)\b|\bbaby\b|elderly|chemo|dialysis|(?<=[£€$])\d{3,}|"
    r"(?<=[£€$] )\d{3,}|\d{3,}\s?(?:€|eur|gbp|usd)",
)

#: Needs a human fast: safety, legal threats, harm, exposed data, money lost,
#: people stranded, press deadlines, outages now.
URGENT = (
    # Safety.
    r"gas smell|smell of gas|gas leak|sparking|\bsparks\b|\bsmoke\b|\bon fire\b|fainted|"
    r"collapsed|ambulance|\binjur|bleeding|hot to the touch|electric shock|exposed wires|"
    r"carbon monoxide|(?:will|could|going to) (?:get )?(?:hurt|killed|injured)|"
    r"explo(?:ded|sion)|overheat|melted|electrocut|choking|allergic reaction|"
    r"hospital|unconscious|assault|attacked|harass|threaten|\bweapon|\bknife|stalk|"
    r"keeps showing up|following me|trying to (?:get|break) in|broke into|break[- ]in|intruder|"
    r"\bhazard|poison|"
    r"power line|live wire|smoking|smoulder|burning smell|smell of burning|"
    r"(?:glass|metal|plastic|bone|needle)s? in (?:my|the|our)|\bdowned\b|fallen (?:tree|cable|"
    r"pole)|"
    r"\bdangerous\b|\bunsafe\b|food poisoning|anaphyla|smells off|dropped a floor|"
    r"\b(?:trees?|branch|branches|cables?|poles?|lines?) (?:down|fallen|came down)\b(?! for)|"
    r"\b(?:across|on) the (?:line|track|tracks|railway|motorway|carriageway)\b|"
    r"\bstranger (?:walked|came|got|let himself|let herself) in|walked into my room|"
    r"\bfell\b|trapped|newborn|(?:kids|children|son|daughter|baby)\b.{0,20}\bate\b|"
    r"(?:don'?t|do not|didn'?t|no longer) feel safe|\bnot safe\b|death threats?|\bthreats\b|"
    r"panic attack|anaphyla|epipen|unaccompanied minor",
    # Legal, police and press threats.
    r"\blawyer|\bsolicitor|\battorney|\bsue\b|\bsuing\b|lawsuit|legal action|trading standards|"
    r"ombudsman|small claims|\bpolice\b|the press\b|class action|\bcourt\b|\bgdpr\b|"
    r"data protection|"
    r"\bregulator\b|watchdog",
    # Harm to self or others.
    r"drive into a wall|kill myself|end it all|\bi'?m done\b|\bim done\b|can'?t go on|"
    r"self[- ]harm|suicid|hurt myself|getting scary|want to die|end my life|take my life|"
    r"can'?t take (?:it|this) anymore|no reason to live|thinking about ending it|"
    r"(?:don'?t|do not) see the point (?:of|in) (?:anything|living|going on|life)|"
    r"no point (?:in )?(?:living|going on)|(?:don'?t|do not) want to be here anymore",
    # Data exposed.
    r"data (?:leak|breach)|privacy breach|\bleaked\b|someone else'?s|home address|door code|"
    r"\bdox|phishing|account number|\bcw: data|\bhacked\b|identity theft|"
    r"my (?:personal )?details (?:are|were) (?:visible|exposed|public)|\bexposed\b|"
    r"ported my number|\bsim swap|gave my sim|my (?:sim|number) (?:was |has been )?(?:ported|"
    r"transferred|given)|getting into my (?:bank|account|email)|\b2fa\b|"
    r"(?:read|posted|shared|leaked) (?:out )?my (?:full )?(?:home )?address|"
    r"card details visible|into someone else'?s account",
    # Money lost or out of reach.
    r"(?:took|taken|stole|stolen|missing)\b.{0,25}[£€$]\s?\d|transactions? i didn'?t make|"
    r"\bfraud line|took everything|account restricted|can'?t access my money|no cash|"
    r"took cash|\bstolen\b|\bscammed\b|unauthori[sz]ed|double[- ]charged|"
    r"charged\b.{0,30}\b(?:twice|two times|\d+ times)|overdrawn|can'?t pay (?:my )?rent|"
    r"card (?:was |has been )?cloned|out of money|(?:cannot|can'?t) (?:buy|afford) food|"
    r"rent (?:is )?due (?:today|tomorrow)|frozen my account|account (?:is |was |has been )?frozen",
    # Stranded travellers.
    r"stranded|\bstuck (?:in|between|at)\b(?! my head)"
    r"(?!.{0,15}\b(?:depot|customs|transit|warehouse|hub|"
    r"sorting))|sleeping on the floor|missed (?:my |a )?connection|"
    r"boarding closes|counter closed|no hotel|no rebooking|no wheelchair|runs out tomorrow|"
    r"denied boarding|nowhere to (?:stay|sleep)|no way home|left behind|"
    r"(?:insulin|medication|medicine|oxygen)\b",
    # Outages that stop someone now; the explicit word.
    r"no (?:mobile )?signal since|needed to call an ambulance|\basap\b|can'?t call (?:999|911|112)|"
    r"(?:cut|switched|turned) off (?:our|my) (?:power|gas|water|electricity|supply)|"
    r"(?:someone|somebody|anyone) (?:pls|please|plz) help|please send (?:someone|help)|"
    r"send help|stuck in a tunnel|"
    r"(?:no|without) (?:power|heating|water)\b.{0,40}\b(?:baby|newborn|elderly|disabled|medical)",
    # "not urgent urgent but pls" says it is not.
    r"(?<!not )(?<!not urgent )(?<!n't )\burgent\b|\bemergency\b",
)

#: Reports that are bad news for a company: negative, never complaints.
#: A journalist asking for comment: urgent (a deadline), and reporting, not
#: complaining, whatever the story is about.
PRESS = (
    r"journalist|reporter|\bproducer\b|press office|\bfor comment\b|\bany comment\b|"
    r"press enquiry|press inquiry|intend to publish|(?:we are|we'?re) publishing|"
    r"invite your response|right of reply|\bcomment by\b|\bresponse by\b|"
    r"\ba comment\b|\ba spokesperson\b|\bdeadline\b|filing tonight|running a story",
)
