"""The complaint lexicon: phrases, grouped by what they signal.

Curated for Playcaller (Apache-2.0, like the project) for English mentions of
a company on social networks, news and forums. Every entry is a regular
expression over the lower-cased text with straight apostrophes, and every
one must start at a word (``bot.core.complaint_scan`` looks for them only
there, bucketed by their first characters, to scan a post once). Groups:

- ``COMPLAINT``: dissatisfaction or a problem the author wants fixed, on its own.
- ``WEAK``: words frequent in complaints but not proof (two make one).
- ``SARCASM``: irony; each is a complaint.
- ``PRAISE``: negated negatives that are praise ("can't complain"); they
  cancel complaint cues, not irony. ``RESOLVED``: a complaint put right.
- ``WARM``: warmth that lifts a neutral score; never cancels a cue.
- Urgency (``URGENT``, ``PRESS``, ``STAKES``) is in ``bot.core.complaint_urgency``.
- ``GOOD_NEWS``, ``BAD_NEWS``: a headline's tone (network ``news`` only).

Why not a package: the maintained emotion lexicons on PyPI are the NRC
lexicons (``nrclex``), licensed for research only, which a commercial product
may not ship; AFINN scores valence like VADER and has no "still waiting" or
"lawyer"; a model would be downloaded or large.

Maintaining it: prefer a general pattern ("doesn't turn up", "third time
this week") to one post's words; add a phrase to the group whose reason fits,
add a case to ``tests/test_complaints.py`` saying what the card shows, and
compare ``uv run python bench/sentiment_eval.py --split dev|test|writer_dev``
before and after. Never tune on a held-out set (``holdout2``): it is run only
for aggregates, by the lead.
"""

from __future__ import annotations

_AGAIN = (
    r"(?:time|day|week|month|email|call|attempt|delivery|order)s? (?:this|in a row|running|now|"
    r"that|i'?ve|we'?ve)\b"
)
_NEG_DID = (
    r"doesn'?t|does not|didn'?t|did not|won'?t|will not|never|hasn'?t|has not|haven'?t|"
    r"can'?t|cannot|couldn'?t|wouldn'?t|isn'?t|aren'?t|still hasn'?t|still not"
)
_NEG = r"(?:not|no|never|isn'?t|wasn'?t|aren'?t|don'?t|didn'?t|doesn'?t|can'?t|cannot|won'?t)"

#: Dissatisfaction or a problem the author wants fixed, whatever VADER says.
COMPLAINT = (
    # Waiting and silence.
    r"never (?:arrived|came|showed up|turned up|got|received|delivered)",
    r"(?:has|have|had)n'?t (?:arrived|come|turned up|been delivered)",
    r"still (?:waiting|no |not |nothing|haven'?t|hasn'?t|broken|charging|down)",
    r"stillwaiting|\bday \d+\b|\b\d+ (?:days|weeks|hours) (?:later|and still|now|of waiting)|"
    r"been waiting|no update|(?:haven'?t|didn'?t|never|not) (?:yet )?received|where(?:'s| is) my\b",
    r"(?:nobody|no one|noone|no-one)\b.{0,25}\b(?:answers|answering|picks? up|will talk|"
    r"replies|responds|gets back|seems to care|cares|helps|called back|bothered)",
    r"\bno (?:answer|reply|response|callback|call back|one came)\b",
    r"on hold|hung up on|(?:callback|call back)\b.{0,30}\b(?:day|week|never)",
    r"answer(?:ed)? my (?:dms|messages|emails|calls)|"
    r"(?:isn'?t|not|aren'?t|stopped|never) (?:answering|responding|replying|picking up|"
    r"getting back)|"
    r"keeps? (?:giving|sending|telling|fobbing|cutting)|been like this|nothing back|heard nothing|"
    r"marked (?:it |my \w+ )?(?:as )?delivered|says (?:it was )?delivered|nothing here",
    # Money.
    r"\b(?:want|need|demand|where(?:'s| is)|still no|isn'?t) (?:a |my |the )?refund",
    r"refund (?:now|please|pls|asap)|my money back|money back please",
    r"charg(?:ed|ing)\b.{0,30}\b(?:twice|two times|three times|\d+ times)|double[- ]charged|"
    r"overcharg|"
    r"took my money|billing error|why am i paying|what am i paying for|bait and switch|throttl|"
    r"\bcompensat|reimburse|false advertising|not as described",
    r"resort fee|hidden fee|price (?:hike|rise|increase)|raised (?:fares|prices)|"
    r"again\b.{0,20}\bprice",
    # Leaving and escalating.
    r"\bcancel(?:l?ing|l?ed)? my\b|\bunsubscrib|\bunfollow|moving my money|"
    r"\bswitching (?:to|away|provider)|\bdisput(?:e|ing)\b|\bcomplained\b",
    r"\blawyer|\bsolicitor|\battorney|\bsue\b|\bsuing\b|lawsuit|legal action|"
    r"trading standards|ombudsman|small claims|chargeback|go to the police|the press\b",
    # Things broken, wrong, lost, unsafe.
    r"(?:doesn'?t|does not|don'?t|won'?t|isn'?t|not|no|stopped) work(?:ing)?\b|keeps crashing|"
    r"logs me out|won'?t load|can'?t (?:access|log ?in|sign in|get in|get through|pay|book|"
    r"check in)|"
    r"\bkeeps (?:cutting|dropping|crashing|failing|freezing|logging|cancell?ing|disconnecting|"
    r"rejecting|declining|charging)|\bhacked\b|"
    r"\bsince (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last \w+)\b",
    r"\blost (?:my|our|the)\b|\bleft my (?:parcel|package|order)|delivered to a door|"
    r"substitut|\bwrong (?:order|item|size|size chart)|size chart was wrong|"
    r"\bgot a\b.{0,30}\bordered",
    r"\bleak(?:s|ed|ing)?\b|deleted (?:all )?(?:my|our)|wiped (?:all )?my|dropping out|drops out|"
    r"slower than ever|worse than ever|\bdamaged|squashed|smashed|cracked|shattered|\bruined|"
    r"soaked|threw my|thrown|"
    r"smells off|out of date|dated last week|\bmould|\bmold\b|\bdirty\b|"
    r"cockroach|\bbroken (?:order|lift|heater|item)",
    r"sparking|gas smell|smell of gas|hot to the touch|leaked|leaking|data breach|privacy breach|"
    r"someone else'?s|phishing|took everything|transactions? i didn'?t make|didn'?t book|"
    r"no[- ]show|account restricted|can'?t access my",
    r"cancell?ed\b.{0,40}\b(?:no hotel|no rebooking|stranded|stuck)|no hotel|no rebooking|"
    r"no wheelchair|no announcement|no alternative|"
    r"no (?:mobile |phone |4g |5g )?(?:signal|service|coverage)\b|no internet|no wifi|no power|"
    r"no heating|no hot water|power cut|(?:delayed|late|down|cancell?ed) again|"
    r"\b(?:app|site|website|login|service|network) (?:is |was |still |keeps going )?down\b|"
    r"\bdown for (?:me|us|everyone|hours|days)|outage (?:again|for|since|in my)|another outage|"
    r"\bcrash(?:es|ing)\b|\bglitch|locked out|\berror\b|\bcode [45]\d\d\b",
    r"\bstuck (?:between|in|at|on)\b(?! my head)|stranded|sleeping on the floor|"
    r"missed (?:my )?connection",
    # Common complaint phrasings.
    r"not what (?:i|we) (?:paid|ordered|asked|signed up) for|what'?s the point|"
    r"explain (?:please|why|this|yourselves)|(?:no|zero) (?:explanation|communication|help|support|"
    r"warning|notice)|who decided|stop (?:sending|showing|charging|calling|emailing|texting|"
    r"spamming)|"
    r"every\W+single\W+(?:day|time|week|month)|nothing like (?:the|what|it)|"
    r"not as (?:advertised|described|pictured|promised)|\bhung up\b|won'?t help|"
    r"refus(?:ed|es|ing) to|waste of (?:time|money)|don'?t (?:bother|buy|book|fly|use)|"
    r"stay away|avoid (?:them|at all)|\b(?:one|1|zero|0) stars?\b|"
    r"how is (?:this|that|it) (?:acceptable|legal|ok|allowed)|is this a joke|are you (?:serious|"
    r"kidding)|"
    r"one job|absolute (?:joke|shambles|disgrace|nightmare|farce)|nightmare|kept waiting|"
    r"short[- ]?changed|ripped off|over ?priced|extortion|cowboys|incompeten|clueless|"
    r"\bignored\b|ghosted|without (?:warning|notice|telling)|"
    r"had to (?:call|chase|ring|email|pay|wait|queue)|chas(?:e|ing) (?:this|you|it|up)|"
    r"\bsmell(?:s|ed)? (?:awful|bad|horrible|terrible|disgusting|rank|of (?:sewage|damp|mould|"
    r"smoke|wee|bleach))|\bsmelly\b|\bstinks?\b|couldn'?t sleep|all night|undercooked|"
    r"hair in|bed ?bugs|"
    r"filthy|unreliable|glitchy|buggy|laggy|unusable|pointless|impossible to|"
    r"(?:can|won|didn|doesn)'?t even|not once|(?:no one|nobody) told|gave up|escalat|"
    r"hit my|drove (?:away|off)|(?:glass|metal|plastic|bone|insect|maggot|worm|mould)s? in (?:my|"
    r"the|our)|"
    r"small claims|out of order|bring back the|(?:went|gone) up by|zero explanation",
    # Judgements of the company.
    r"\bworst\b|\bterrible\b|appalling|shocking|horrendous|horrible|\bpoor service|"
    r"\bbad service|never again|never (?:using|flying|ordering|buying|shopping)|done with you|"
    r"fed up|sick of|tired of|frustrat|furious|\blivid\b|disappoint|let (?:me|us) down|"
    r"\bscam(?:med|mers)?\b|robbery|not fit for purpose|faulty|defective|fell apart|"
    r"\bfiled a complaint|\bformal complaint|\bmake a complaint|speak to a manager|"
    r"\bawful\b|\buseless\b|\brude\b|\bunhelpful\b|disgusting|disgrace|"
    r"shambles|pathetic|ridiculous|misleading|\brip[- ]?off|\bcringe\b|who approved this|"
    r"downgrade|getting worse|felt like a number|treated like|unacceptable",
    r"\bsort (?:it|this|your \w+) out|\bfix (?:your|it|this|pls|please|the)\b|do better|"
    r"\bcome on\b|"
    r"\b(?:please|pls|plz) (?:fix|sort)|\bfix\W*$",
    rf"{_NEG} (?:impressed|happy|pleased|good enough|acceptable|ok|okay|helpful|amused)\b",
    r"\bshame about|\bbut an apology\b|apology isn'?t|thanks for nothing|thanks for leaving|"
    r"\bfor the privilege|ads came back|\bcame back after",
    # A service verb negated: "doesn't turn up", "won't let me", "not cleaned".
    rf"(?:{_NEG_DID}) (?:even )?(?:turn(?:ed)? up|show(?:ed)? up|arrive[ds]?|come|came|"
    r"work(?:s|ed)?|load|open|pick(?:s|ed)? up|answer(?:ed)?|respond(?:ed)?|reply|replied|"
    r"call(?:ed)? (?:me )?back|deliver(?:ed)?|let me|connect|close|turn on|switch on|start|"
    r"get back to)\b",
    r"\bnot (?:been )?(?:cleaned|fixed|delivered|refunded|resolved|sorted|answered|replaced|"
    r"repaired|updated|collected|returned|credited|honoured|processed)\b",
    # The same trouble again: "third time this week", "4th day running".
    rf"\b\d+(?:st|nd|rd|th) {_AGAIN}|\b(?:second|third|fourth|fifth|sixth|tenth|umpteenth) "
    rf"{_AGAIN}|\bin a row\b|\bdays? running\b|\banother \w+,? another\b|"
    r"\b(?:died|broke|failed|crashed|cut out|dropped|stopped working) (?:again|twice|"
    r"(?:three|four|five|[0-9]+) times)\b",
    # Asking, chasing, explaining again.
    r"\b(?:asked|called|emailed|chased|rang|messaged|contacted|reported|told) (?:you |them |"
    r"it |this )?(?:\w+ )?(?:times|twice)\b|\bi'?ve (?:asked|called|emailed|chased|rung|"
    r"reported) (?:three|four|five|six|\d+|many|so many|multiple)\b|"
    r"\b(?:nobody|no one|noone) (?:can|could|will|would) (?:tell|explain)|\bexcuses\b|"
    r"\b0 (?:answers?|replies|responses?|updates?|help|reply)\b|"
    r"\bzero (?:answers?|replies|responses?|updates?|help|reply)\b",
    # Judgements that compare with what was promised or used to be.
    r"expected better|expect better|deserve better|used to be (?:good|great|reliable|decent|"
    r"better|fast|quick|brilliant|the best)|\bletdown\b|\blet ?down\b|step backwards?|"
    r"gone downhill|went downhill|going downhill|make it make sense|make this make sense|"
    r"\bis a choice\b|\bnot so much\b|\bcircus\b|\bclowns?\b|"
    # "lovely when it works": it mostly does not.
    r"\bwhen (?:it|they)(?: actually)? (?:works?|opens?|bothers?|turns? up|shows? up)\b|"
    r"\bwhen (?:it'?s|they'?re)(?: actually)? (?:open|working|up|running|on time)\b|"
    r"\b(?:what|such|total|complete|utter) (?:a )?joke\b|\bhold music|"
    r"pay(?:ing)? more for (?:less|worse)|paying for \w+,? getting|"
    r"(?:won'?t|will not|never) be (?:back|returning|coming back)|not coming back|"
    r"would(?:n'?t| not| never) (?:book|buy|recommend|stay|fly|order|use) (?:\w+ )?again|"
    r"(?:wouldn'?t|would not|do not|don'?t|can'?t|cannot) recommend|\bi give up\b|"
    r"\bgive up on\b|\bate my\b|(?:shame|pity) (?:the|that|about)\b|"
    r"\b(?:something|items?|things?|half|bits?) (?:is |are |was |were )?missing|"
    r"\bmissing (?:items?|parts?|pieces?|bits?|bag|parcel|order|refund)|"
    r"\bhidden (?:fees?|charges?|caps?|costs?)|without (?:my )?consent|"
    r"\b(?:prices?|bills?|fees?|fares?|premiums?|direct debit|charges?|tariffs?|subscription) "
    r"(?:is |are |has |have |just )?(?:going|gone|went|goes) up\b|"
    r"\bleft (?:me|us) (?:waiting|stranded|alone|hanging|on hold|in the dark)|"
    r"\b(?:just|only) to be (?:told|cut off|hung up on|sent|passed)\b|"
    r"\buntil (?:someone|somebody|you) (?:explains|answers|responds|replies|fixes|sorts|calls)|"
    r"\b(?:parked|blocking|blocked) (?:across |in |on )?(?:our|my) "
    r"(?:driveway|drive|exit|road|car)|"
    r"\bgave my (?:room )?key to\b|\bwho (?:do|can|should) (?:i|we) (?:talk|speak) to\b|"
    r"\bsurprise\b.{0,12}\b(?:charges?|fees?|bills?|noise|cancell?ation|price rise|increase|"
    r"construction|debit)\b|"
    r"\b(?:put|putting|puts|pushed|jacked|bumped|hiked) (?:up )?(?:the |their |your |its )?"
    r"(?:price|prices|fares?|fees?|bills?|rent|tariffs?)\b(?:.{0,25}\bup\b)?|"
    r"\b(?:booked|ordered|paid for|asked for) (?:a |an |the )?[\w' -]{1,30}(?:,| and| but)? "
    r"(?:got|received|they sent|you sent|was given|were given) (?:a |an |two |the |some )?",
)

#: Irony: praise words around a complaint ("oh great, another price rise").
#: Each is a complaint: in mentions of a company these are almost never
#: sincere, and a missed complaint shown as praise is the costlier error.
SARCASM = (
    r"\boh (?:cool|great|fantastic|wonderful|brilliant|perfect|lovely|good)\b",
    r"\bthanks a lot\b|\bslow clap|\byeah right\b|"
    r"\b(?:gotta|got to|just) love\b|\blove how\b|\blove (?:being|paying|waiting)\b|"
    r"\bimpressive really\b|\babsolutely brilliant\b|\bgreat job\b.{0,40}\b(?:hours?|again)\b",
    r"\blove (?:a|that)\b.{0,30}\b(?:breach|delay|queue|leak)",
    r"\bcan'?t wait to\b.{0,40}\b(?:stand|wait|queue|pay)\b",
    r"\bwould be even\b|just what (?:i|we) needed|never fails to disappoint|"
    r"\bcool,? cool,? cool\b|\b(?:amazing|funny|interesting|impressive|great|nice) how\b|"
    r"\bthanks for (?:the )?(?:lovely|wonderful|great|amazing|fantastic|brilliant|quick)? ?"
    r"\d+[- ](?:minute|hour|day|week)|\bthanks for thinking of\b|"
    r"\b(?:so )?(?:happy|glad|thrilled|love) to pay (?:more|extra|twice)|"
    r"\bwould (?:love|like) (?:it |this |you )?(?:even )?more if\b|"
    r"\bimpressive consistency|\bnow do one where\b|\breally making my day\b|"
    r"\b(?:so )?(?:glad|happy|thrilled|delighted) (?:that )?(?:i |we )?(?:pay|paid|am paying)\b|"
    r"\bnothing says\b.{0,40}\blike\b|"
    r"(?:amazing|great|brilliant|fantastic|wonderful|excellent) service\W{0,4}\U0001f44f",
)

#: Negated complaints that are praise: VADER reads "complain", "bad", "hate"
#: and "cry" as negative.
PRAISE = (
    rf"{_NEG} complain|no complaints|nothing bad to say|{_NEG} (?:a )?single (?:outage|problem|"
    rf"issue)",
    r"never (?:had|have) (?:a|any) (?:problem|issue)|\bno (?:problems?|issues?|dramas?)\b|"
    r"made me cry|i don'?t hate|\bno notes\b|zero hassle|\bslaps\b|deserves a raise|\blegend\b",
    r"\bfight me\b|\bjust works?\b|\bno fuss\b|saved my|\bbest \w+ (?:in|on|ever)\b|"
    r"\bnot bad\b|\b(?:is|was|looks) (?:fire|lit)\b|"
    r"can'?t wait (?:for|to)\b(?!.{0,40}\b(?:stand|wait|queue|pay|be charged)\b)|"
    # Praise idioms: "credit where it's due", "worth every penny".
    r"\bcredit where|\bfair play\b|\bprops to\b|\bhats off\b|above and beyond|extra mile|"
    r"game ?changer|worth every penny|"
    r"(?:would|will|'ll) (?:stay|book|fly|buy|order|go|shop|use) (?:\w+ )?again\b|"
    r"\b(?:absolute|total|such a|an absolute) (?:star|gem|hero|legend|angel|lifesaver)\b|"
    r"highly recommend|can'?t recommend (?:\w+ )?(?:enough|highly enough)|made my (?:day|morning|"
    r"week|night|year)|\bkeep it up\b|more of this|it'?s the little things|"
    r"what a (?:human|star|legend|hero|gem|team|guy|lad|woman|man)\b|\bily\b|\bilysm\b|"
    r"why didn'?t (?:i|we) (?:do this|switch|try|join|move|come)|that'?s how (?:you|it'?s) "
    r"(?:do|done|keep|treat|handle|look)|\b(?:5|five) stars\b|"
    r"that'?s how you do|genuinely impressed|10/10|can'?t fault (?:them|it|@|"
    r"you)\b(?!.{0,40}\bbut\b)",
)

#: Words common in complaints but not proof of one ("still", "why", "hours").
#: Two of them, or one in a post VADER finds negative, in a post that speaks
#: of the author's own experience or to the company, make a complaint; one
#: is enough to keep a post from showing as positive when VADER's praise is mild.
WEAK = (
    r"(?:still|again|why|never|nobody|no one|waiting|waited|hours|days|nights|weeks|months|"
    r"late|delay(?:ed|s)?|missing|wrong|(?<!no )problem|(?<!no )issue|fail(?:ed|s|ing)?|"
    r"charged|charging|"
    r"cancel(?:l?ed)?|refund|complain|seriously|ridiculous|unbelievable|annoy(?:ed|ing)|"
    r"ugh|smh|wtf|ffs|where is|where'?s|how long|how hard|how many times|supposed to|"
    r"meant to|promised|told me)\b|keeps? (?:getting|telling|saying|asking)|every time|"
    r"\bno (?!problem|worries|fuss|complaints|issues|queues|notes|hassle|doubt|more)\w+|"
    r"for (?:a|two|three|\d+) (?:fortnight|days?|weeks?|months?|hours?)|since \d|"
    r"used to(?! it\b)|bring back|out of order|un\w+able\b|prices? up|\bdue\b|"
    r"each time|every single|yet again|one job|not even|slow(?:er)?|(?:did|does|wo|ca|is|was|"
    r"have|has)n'?t|"
    r"(?:broken|broke|stuck|cold|stale|lukewarm|leak\w*|wet|soaked|dead|died|lost|gone|"
    r"closed|shut|cancell?ing|late again|as hell|as usual|typical|joke|excuses?|"
    r"chase|chasing|queue|queuing|queueing|went up|gone up|going up|doubled|tripled|"
    r"to be told|replacement bus(?:es)?|"
    r"overpriced|pricey|expensive|rude|cramped|noisy|tiny|shrink\w*|worse|"
    r"disinterested|meh|sigh|again\?*|forgets|forgot|forgotten|crashed|ignores?)\b|"
    r"\b(?:three|four|five|six) times\b|\b\d+ times\b|"
    r"\b(?:an?|long|hour)[- ]?(?:minute|min|hour|hr|day|week)s? wait\b|"
    r"\b\d+[- ]?(?:minute|min|hour|hr|day|week)s? wait\b|"
    r"\b(?:two|three|four|five) (?:emails|calls|chats|"
    r"messages|phone calls|tickets|visits|attempts)\b|\b\d+ (?:emails|calls|chats|"
    r"messages|phone calls|tickets|visits|attempts)\b|\bcan'?t (?!wait|complain|fault|"
    r"recommend \w+ enough|believe how (?:good|great))",
)

#: Warmth that lifts a neutral score to positive when nothing else is wrong
#: ("shoutout to the driver"); unlike PRAISE it never cancels a complaint cue.
WARM = (
    r"shout ?out|exactly what (?:i|we) (?:needed|wanted)|thank you|thanks so much|grateful|"
    r"kudos|hats off|well done|\bobsessed\b|\bbrilliant\b|\bamazing\b|\blegend|\blush\b|"
    r"\bgorgeous\b|\bspotless\b|\bseamless\b|\bflawless\b|\bsmooth\b|\bunreal\b|\bhero\b",
)

#: The author speaks of their own experience or to the company.
ADDRESSED = r"@|\b(?:i|i'm|im|i've|ive|my|me|we|our|us|you|your|u|ur)\b"

#: The author speaks of their own experience.
PERSONAL = r"\b(?:i|i'm|im|i've|ive|my|me|we|our|us)\b"

#: A complaint put right: praise that names a refund is not a complaint.
RESOLVED = (
    r"\brefunded\b|money back same day|\bgot my refund\b|\bquick refund\b|"
    r"(?<!not )(?<!n't )\b(?:sorted|fixed|resolved|solved) (?:it|me|my|in|out|within|the|every|"
    r"all|everything|our|us)\b|\b(?:problem|issue|it|everything|all) (?:sorted|fixed|resolved|"
    r"solved)\b(?! yet)",
)

#: A sentence of praise alone at the end, after trouble: "no screen for 9
#: hours. great."
IRONIC_END = (
    r"(?:^|[.!?,]\s*)(?:great|thanks|thank you|cheers|brilliant|lovely|perfect|fantastic|nice|"
    r"cool|awesome|wonderful|amazing|love it|well done|good job|great job|naturally|classic|"
    r"of course|as usual|typical|impressive|love that|lovely stuff|nice one|fab|what a treat|"
    r"what a surprise|top work)\W*$"
)

#: Good news for a company in a headline.
GOOD_NEWS = (r"\brecord\b|\bawards?\b|named best|\bwins\b|\btops\b|\bpraised\b",)

BAD_NEWS = (
    r"\bfined\b|\bfine of\b|\binquiry\b|\bprobe\b|\binvestigat|job cuts|\bcuts\b|layoffs|"
    r"shares (?:fall|drop|slump|slip|tumble|plunge|sink)|\b(?:slip|slips|slump|slumps|tumble|"
    r"tumbles|"
    r"plunge|plunges)\b|\brecall|\bsued\b|lawsuit|\bbreach\b|\boutage\b|\bstrike\b|"
    r"\blosses\b|jobs? at risk|\bto close\b|closures|\bwarns?\b|\bcomplaints\b|\bbacklash\b|"
    r"\bcriticis",
)


#: Signs that are not words, checked as plain substrings: anger and
#: disapproval emoji make a complaint, the upside-down face and "/s" irony.
ANGRY_EMOJI = (
    "\U0001f621",  # pouting face
    "\U0001f92c",  # symbols over mouth
    "\U0001f624",  # steam from nose
    "\U0001f644",  # rolling eyes
    "\U0001f44e",  # thumbs down
    "\U0001f612",  # unamused
    "\U0001f620",  # angry face
    "\U0001f926",  # face palm
)
IRONY_SIGNS = ("\U0001f643", " /s")
#: Polite or deadpan signs that read as irony after a problem: slightly
#: smiling face, thumbs up, skull.
POLITE_EMOJI = ("\U0001f642", "\U0001f44d", "\U0001f480")
