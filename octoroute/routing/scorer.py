"""The built-in scorer: cheap text signals combined into a tier and a confidence.

Why these signals (public judgements of small vs large instruction-tuned
models, not any labelled set of ours): small models answer writing,
role-play, humanities and everyday chat as well as large ones, and lose
most on code, mathematics (word problems included), multi-step reasoning
and extracting structured data. So the scorer first decides *what kind* of
ask a prompt is (the task type), then, for the kinds small models lose on,
*how hard* it is (length, constraints, "prove", multi-part, concurrency /
security / architecture depth, bugs that show only sometimes, design asks,
constraint satisfaction, weighed decisions, extraction from long texts). Cheap kinds go to fast, hard kinds to
balanced or deep. Under-routing costs more than over-routing, so a tie
between kinds takes the higher tier, and a prompt the scorer cannot read
(little signal, an unfamiliar language) gets a low confidence, which the
hybrid strategy hands to the router brain.

Everything is a word-set lookup or a precompiled regular expression over at
most ``SCAN_CHARS`` of text: a decision on a 2,000-character prompt costs
tens of microseconds. Pure functions; no state.
"""

from __future__ import annotations

import re
import sys
from typing import NamedTuple

from octoroute.config import TIERS
from octoroute.routing.rules import estimate_tokens
from octoroute.routing.vocabulary import CJK, CSP_ARTEFACT_WORDS, KOREAN, RARE_LANGUAGE_ADVERBS, THAI, WORDS

SCAN_CHARS = 4000  # characters scanned: the whole prompt up to this, else head and tail
_HEAD_CHARS = 3000  # of a longer prompt, this much of the head ...
_TAIL_CHARS = 1000  # ... and this much of the tail (the ask is often at the end)

WORD_SCAN_CHARS = 1000  # characters split into words: the whole prompt up to this, else ...
WORD_TAIL_CHARS = 400  # ... its head and this much of its tail (1,500 and 500 until 2026-12-04: a split
# of 1,500 characters was a third of a long prose decision; the body of a long paste
# mostly misled the kind, e.g. a legal text read as maths)
SHAPES_ENOUGH = 3  # code shapes counted at most: two already make a prompt code
NUMBERS_ENOUGH = 5  # digit runs counted at most; no rule looks past four
QUESTIONS_ENOUGH = 3  # question marks counted at most; no rule looks past three
SCRIPT_WINDOW = 400  # characters looked at to tell the script (zh/ja, Cyrillic)
CJK_SCAN_CHARS = 1200  # characters of zh/ja text searched for keywords (no word boundaries there)
LOW_CONFIDENCE = 0.5  # below this the scorer is guessing (hybrid asks the brain)
LONG_TOKENS = 1200  # tokens; a hard ask this long is one difficulty point
VERY_LONG_TOKENS = 3000  # tokens; a second point (and cheap asks this long need balanced)
CHEAP_MAX_TOKENS = 1500  # tokens; a summary or a question in a conversation this long leaves fast
LONG_ASK_TOKENS = 100  # tokens of the ask's own text; past this it leaves fast (not chat, brief or plain)
DEEP_AT = 2  # difficulty points that send a hard ask to deep
LONG_DOCUMENT_CHARS = 1600  # prose this long is a pasted document: its body's words are not the ask
TABLE_ROWS = 5  # lines of a pasted table (with three separators a line on average)
PARAGRAPH_TOKENS = 60  # tokens; a source this long is a paragraph, not a line
STAKES_TEXT_WORDS = 60  # words; a text at stakes this long needs care, a phrase-book line does not
KEY_VALUE_LINES = 4  # lines naming their own field: the source is already structured
AGGREGATE_TOKENS = 30  # tokens; a list's sum or average asked this briefly is one operation
PARTS_CHARS = 600  # characters; parts numbered inline ("(1) ... (2) ...") open the ask this early
TONE_CHARS = 120  # characters; a tone asked for this early ("so it sounds less corporate") is the ask's
ONE_VALUE_TOKENS = 150  # tokens; "what's the source ip in this" over a text this short reads one value off it
DIFFERENCE_CHARS = 60  # characters; "what's the difference between" this early opens the ask
SUMMARY_COLON = 60  # characters; a colon this early in "summarise ...:" ends the ask, the material follows
LONG_SOURCE_TOKENS = 300  # tokens; an extraction from a text this long is one difficulty point
RARE_TEXT_WORDS = 3  # Gaelic function words (or Igbo/Yoruba dotted letters) that make a text Gaelic (or Igbo)
UNSURE_FOREIGN_WORDS = 15  # words; an ask this long in a language beyond _LOOKUP_LANGUAGES leans up
HYPHEN_SPLIT_WORDS = 80  # words; a prompt this short also has its hyphenated compounds split
PLAIN_QUESTION_CHARS = 60  # a "?" this close after "in simple words" ends that ask
ASK_END_CHARS = 240  # the head and the tail of an ask, where it says who the answer is for
FACT_COUNT_TOKENS = 40  # tokens; a how-many this short with at most one figure asks a fact
LOOKUP_TOKENS = 30  # tokens; a code ask this short, with no code in it, is a one-line how-to
SUMMARY_LINE_CHARS = 300  # a line this short, above or below a pasted text, may be its ask
THANKS_WORDS = 25  # words; thanks this short that ask nothing more close a conversation
FOLLOW_UP_LANGUAGE_WORDS = 12  # words; a follow-up this short naming a language asks the translation again
NEWS_WORDS = 60  # words; news this short with nothing asked is chat (longer may be a report to act on)
PERCENT_TOKENS = 20  # tokens; a percentage of one figure, or two bare figures, asked this briefly is one step
FOREIGN_ASCII_WORDS = 12  # words; ASCII text this long with no stop word is in another language
BRIEF_CHARS = 120  # characters; a length asked this early ("summarise in 2 sentences") is the ask's
JUST_ONE_CHARS = 80  # characters; "just the total" this early is the ask
PLAN_WINDOW = 45  # characters before "plan" where a plan of the asker's weeks is named
HISTORY_WORDS = 12  # words; "who invented X" this short asks a fact about X
TECH_EXPLAIN_WORDS = 14  # words; an ask to explain a technical mechanism this long needs balanced

# Task types the scorer infers; the seed's six plus math, reasoning, extraction.
HARD = frozenset(("code", "math", "reasoning", "extraction"))
CLEAR_CONTEXT = 0.75  # the scorer's confidence in the earlier turns' kind for a follow-up to continue it
CLEAR_KIND = 3.0  # a kind's score from several signals, not one ambiguous word ("series", "fields")


class Score(NamedTuple):
    """The scorer's verdict. ``signals`` holds only the signals that fired."""

    tier: str
    task_type: str
    confidence: float
    reason: str  # short, never prompt text
    difficulty: int
    signals: tuple[tuple[str, int], ...]
    language: str  # "en", "de", ..., "cjk", "cyrillic", "th", "other"; "" when not guessed (not needed)


def _word_char(char: str) -> bool:
    """What the engine's ``\\w`` is, for one character."""
    return char.isalnum() or char == "_"


class _Phrases:
    """Phrases to find, as patterns that each open on a literal, which the engine skips ahead to.

    A pattern that opens on ``\\b``, or on a group of alternatives, hides its first characters from
    the engine, which then tries every branch at every position: ``_BRIEF`` as one such pattern cost
    47 us on the 120 characters it reads and 900 us on 2,000. So each phrase here is found by a
    literal: ``free`` patterns match anywhere; ``at_word`` ones must begin a word, so the character
    before each find is checked here, where their ``\\b`` was (each opens on a word character);
    ``after`` holds (literal, before, width): a phrase found by a literal in its middle ("valid" in
    "the argument is valid"), with ``before`` what must end just before it, within ``width``
    characters (``before`` ends in ``\\Z`` and does not end on ``\\b``, which would see a window's end).
    """

    __slots__ = ("_after", "_at_word", "_free")

    def __init__(self, *free: str, at_word: tuple[str, ...] = (),
                 after: tuple[tuple[str, str, int], ...] = ()) -> None:
        self._free = tuple(re.compile(pattern) for pattern in free)
        self._at_word = tuple(re.compile(pattern) for pattern in at_word)
        self._after = tuple((re.compile(literal), re.compile(before), width)
                            for literal, before, width in after)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        """A find of one of the phrases in ``text[pos:endpos]`` (not always the first), or None."""
        for pattern in self._free:
            found = pattern.search(text, pos, endpos)
            if found is not None:
                return found
        for pattern in self._at_word:
            found = pattern.search(text, pos, endpos)
            while found is not None and found.start() and _word_char(text[found.start() - 1]):
                found = pattern.search(text, found.start() + 1, endpos)
            if found is not None:
                return found
        for literal, before, width in self._after:
            found = literal.search(text, pos, endpos)
            while found is not None:
                start = found.start()
                if before.search(text, max(pos, start - width), start) is not None:
                    return found
                found = literal.search(text, start + 1, endpos)
        return None


class _GuardedPhrases:
    """Substrings to look for, each behind a guard word it holds ("act as" behind "act").

    A prompt pays for the phrases of the guard words among its words (``hits``), not a scan of every
    phrase: sixty phrases cost 90 us on 2,000 characters. A phrase's guard is the first of its words
    among ``guards``. Single words (stems: "unusual" in "unusually"), phrases with no guard word and
    ``always`` ones (a last word that takes endings) are searched always.
    """

    __slots__ = ("_always", "_by_word", "_keys")

    def __init__(self, phrases: tuple[str, ...], guards: str, always: tuple[str, ...] = ()) -> None:
        words = frozenset(guards.split())
        by_word: dict[str, tuple[str, ...]] = {}
        for phrase in phrases:
            keys = [word for word in phrase.split() if word in words] if " " in phrase.strip() else []
            if keys and phrase not in always:
                by_word[keys[0]] = (*by_word.get(keys[0], ()), phrase)
            elif phrase not in always:
                always = (*always, phrase)
        self._always = always
        self._by_word = by_word
        self._keys = frozenset(by_word)

    def in_text(self, text: str, hits: frozenset[str]) -> bool:
        """One of the phrases is in ``text``, whose vocabulary words are ``hits``."""
        return any(phrase in text for phrase in self._always) or any(
            phrase in text for word in hits & self._keys for phrase in self._by_word[word])


# --- vocabularies -------------------------------------------------------------
# One dict from word to the signal it feeds, built once from vocabulary.WORDS; the prompt's
# words are intersected with its keys in one C-level pass.

_VOCAB: dict[str, tuple[str, ...]] = {}
for _signal, _text in WORDS.items():
    for _word in dict.fromkeys(_text.split()):  # (a word written twice in a list counts once)
        _VOCAB[_word] = (*_VOCAB.get(_word, ()), _signal)
_VOCAB_KEYS = frozenset(_VOCAB)
_NO_WORDS: frozenset[str] = frozenset()
# Maths and puzzle words with an everyday sense: a TV series, a speed limit, wealth inequality, the
# probability of rain, a logic board, a chess opening, "¿verdad?". With no figure, no formula and
# no other word of their kind beside them, they are not maths or a puzzle.
_EVERYDAY_MATHS = frozenset(
    "sum product average area volume circle angle angles limit series matrix matrices vector vectors "
    "remainder digits prime primes integrate ratio fraction median speed distance interest compound "
    "compute solve percent percentage probability combinations modular inequality inequalities "
    "logic logical sequence chess paradox infer deduce wahrheit vérité verdad verità".split())
_EVERYDAY_SIGNALS = ("math", "math_adv", "chance", "puzzle")
# Depth words with an everyday sense: an architecture studio, a water leak, an injection at the
# GP's, concurrent sessions at a conference. With no code, no code words and no
# technical subject beside them, they make nothing harder. ("Security" and "performance" are left
# out: in a homelab they are mostly about systems the vocabulary does not name, like Nextcloud.)
_EVERYDAY_DEPTH = frozenset("architecture parallel concurrent concurrently simultaneously injection leak "
                            "leaks authentication".split())
# Code words with an everyday sense: an oven method, english class, the library, terminal 2.
_EVERYDAY_CODE = frozenset("method methods class classes program programme programs library framework "
                           "terminal cache exception schema variable variables null "
                           "implementation implement linked backend frontend".split())
# File formats, which a file's extension also names ("donors.csv").
_FILE_FORMATS = frozenset(("csv", "json", "yaml", "yml", "xml"))
# ... and, with fields and a schema, the data a program to write reads or saves.
_PROGRAM_DATA = _FILE_FORMATS | frozenset(("field", "fields", "schema", "structured"))
# Writing words with an everyday sense: the things themselves, not a piece to write.
_EVERYDAY_WRITING = frozenset("email letter newsletter song birthday wedding invitation character scene "
                              "speech toast edit reminder card".split())
# Algorithm words with a plainer sense in a homelab: a dynamic IP, a directory tree, the Java heap,
# an efficient copy, a recursive chmod. Alone they name no algorithm to design; with another algorithm word, a
# complexity bound or one of these phrases they do.
_AMBIGUOUS_ALGO = frozenset("dynamic tree trees heap efficient optimal optimise optimize grammar precedence "
                            "interpreter recursive recursively minimise minimize minimiser minimieren "
                            "minimizar minimizzare maximise maximize maximiser maximieren maximizar "
                            "massimizzare".split())
_AMBIGUOUS_PROSE_ALGO = _AMBIGUOUS_ALGO | {"graph", "graphs"}
# A chain of kinship, one relative "of" another: "the daughter of the only son of my grandfather's wife".
_KIN = r"(?:son|daughter|father|mother|wife|husband|uncle|aunt|nephew|niece|cousin|brother|sister|grand\w+)"
_KIN_CHAIN = re.compile(_KIN + r"'?s? of (?:the |my |his |her |their |your )?(?:only |eldest |youngest )?"
                        + _KIN)
# A contest's bound on its input: "1 <= n <= 1e5", "q ≤ 2·10^5".
_INPUT_BOUND = re.compile(r"(?:<=|≤|<|up to) ?(?:\d ?[*·x\u00d7] ?)?(?:1e\d|10\^\d|10\*\*\d)")
# Cards that are things, not texts: a debit card, a SIM card, a card number.
_CARD_THING = _Phrases(
    at_word=(r"card (?:number|details|reader|payment)",),
    after=((r"cards?\b", r"\b(?:debit|credit|bank|sim|sd|microsd|graphics|video|sound|network|memory|id|gift|"
                         r"loyalty|smart|key|access|aadhaar|pan|ration|health|insurance|business|prepaid|travel|"
                         r"oyster|contactless) ?\Z", 12),))
# ... unless a card to write is named beside them ("a birthday card for the nurse who took my card").
_CARD_WRITING = frozenset("birthday wedding christmas thank-you condolence greeting greetings anniversary "
                          "write draft sympathy".split())
# Plans a constraint problem produces; alone with figures, they are plans to write, not problems.
_CSP_ARTEFACTS = frozenset(CSP_ARTEFACT_WORDS.split())
# A text asked for in the first words: "need a 3-min farewell speech for ...", "i want a short poem about".
# A new text to write, named in the ask: "write me a revisions clause", "draft a letter".
_WRITE_NEW = re.compile(r"\b(?:write|draft)(?: me| us)? (?:a|an) ")
_NEED_TEXT = re.compile(r"\s*(?:i |we )?(?:need|want|would like|'d like) (?:a|an)(?: [\w'-]+){0,3} "
                        r"(?:speech|toast|eulogy|poem|story|caption|bio|letter|card message|limerick|haiku|"
                        r"song|(?:card|thank-you|thank you|sympathy|condolence|farewell|get-well) note)\b")
# A biography to write: "a short bio", "bio for the website" (not "BIO BANANEN" on a receipt).
_BIO = re.compile(r"\b(?:short|brief|speaker|author|professional|team|a|my|our|his|her) bio\b|"
                  r"\bbio (?:for|of)\b")
# The polite opening before an ask's verb: "please", "can you".
_POLITE = r"\s*(?:please |pls |can you |could you )?"
# Notes of a pasted text asked in the ask's first words: "turn this into revision bullet points".
_TO_NOTES = re.compile(_POLITE + r"(?:(?:turn|make|convert|condense|boil|put) "
                       r"(?:this|these|it|that|the [a-z]+)(?: [a-z']+){0,2} (?:into|to|in|down to) "
                       r"(?:[a-z-]+ ){0,2}(?:bullet points|bullets|notes|flashcards|flash cards|cheatsheet)|"
                       # "make short study notes from this", "make me flashcards of these pages"
                       r"make (?:me |us )?(?:[a-z-]+ ){0,3}"
                       r"(?:notes|flashcards|flash cards|cheatsheet|bullet points) (?:\([^()]{1,24}\) )?"
                       # ("make short notes (5-6 points) from this")
                       r"(?:from|of|on|out of) (?:this|these|it|that|the [a-z]+))")
# A competition's number theory, with "find all ... such that" beside it.
_NUMBER_THEORY = ("positive integer", "negative integer", "nonnegative integer", "integer solution",
                  "pairs of integers", "all integers", "integer pairs", "integers n such", "integers x such")
_ALGO_PHRASES = ("dynamic programming", "binary tree", "search tree", "spanning tree", "segment tree",
                 "suffix tree", "tree traversal", "min-heap", "max-heap", "min heap", "max heap", "heap sort",
                 "heapsort", "binary heap", "priority queue", "directed graph", "weighted graph",
                 "undirected", "b-tree", "red-black", "avl tree",
                 "optimal substructure", "an algo ", "un algo ")  # (alone, "algo" is Spanish "something")

# The substrings of scripts written without spaces (zh, ja, Thai, Korean), from vocabulary.CJK,
# THAI and KOREAN.
_CJK_SIGNALS: dict[str, tuple[str, ...]] = {}
for _signal, _needles in (*CJK.items(), *THAI.items(), *KOREAN.items()):
    for _needle in _needles:
        _CJK_SIGNALS[_needle] = (*_CJK_SIGNALS.get(_needle, ()), _signal)
# One pass for all needles: every branch starts with a CJK or Thai character, so the
# engine skips ahead over everything else.
_CJK_NEEDLE = re.compile("|".join(sorted(_CJK_SIGNALS, key=len, reverse=True)))

# --- shapes ------------------------------------------------------------------

# Shapes. Python's re skips ahead fast only to a pattern's literal first
# character(s), so every pattern here starts with a literal or a single class,
# runs with ``search`` (not ``findall``) where a yes/no will do, and runs only
# after a C-level substring test says it might match: a leading ``\b`` or an
# alternation of differently-starting branches cost milliseconds per prompt.
# (guard, mark): a mark is looked for only when its guard, its rarest character or a
# word, is in the text (a memchr, or a lookup among the prompt's words). NOTE: no marks
# that prose uses ("->" arrows, "this." at a sentence end, "$ 5"). NOTE(routing): one guard
# per mark, not one per family: code is full of "=", and "=>", "!=", "+=" behind that one
# guard were three full scans of a Python prompt that holds none of them (27,000
# instructions on 2,000 characters); behind ">", "!" and "+" they cost a memchr each.
_CODE_MARKS = (("`", "```"), (">", "=>"), ("=", "=="), ("!", "!="), ("+", "+="), (":", "::"), ("&", "&&"),
               ("|", "||"), (";", ";\n"), ("{", "{\n"), ("<", "</"), ("#", "#include"),
               ("print", "print("), ("print", "printf("), ("print", "println!("), ("console", "console.log("),
               ("self", "self."),
               # Python: a block opened after a call or a signature, and an indented return.
               (")", "):\n    "), ("return", "\n    return "))
_WORD_GUARDED = frozenset(("print", "console", "self", "return"))  # guards looked up in the prompt's words
# Split once by guard kind (the count is the same in any order; see _code_shape).
_CHAR_MARKS = tuple((guard, mark) for guard, mark in _CODE_MARKS if guard not in _WORD_GUARDED)
_WORD_MARKS: dict[str, tuple[str, ...]] = {}
for _guard, _mark in _CODE_MARKS:
    if _guard in _WORD_GUARDED:
        _WORD_MARKS[_guard] = (*_WORD_MARKS.get(_guard, ()), _mark)
# (word, needs, pattern): a pattern is searched only when its word is among the prompt's
# words and ``needs``, a character or text that every match holds ("" when none is rare
# enough to help), is in the text: a memchr. (A Python prompt has no ";": the "return"
# pattern tried and backtracked at each of its returns, 25,000 instructions on 2,000 characters.)
_CODE_WORD_SHAPES = (
    ("def", "(", re.compile(r"def \w+\s*\(")),
    ("class", "", re.compile(r"class \w+\s*[:({]")),
    ("import", "", re.compile(r"import [\w{*]")),
    ("function", "(", re.compile(r"function\s*\w*\s*\(")),
    ("fn", "", re.compile(r"fn \w+\s*[(<]")),
    ("func", "(", re.compile(r"func \w+\s*\(")),
    ("select", " from ", re.compile(r"select [^\n]{1,80}? from ")),
    ("return", ";", re.compile(r"return [^\n]{0,80};")),
    ("let", "", re.compile(r"let (?:mut )?\w+\s*[:=]")),
    ("const", "=", re.compile(r"const \w+\s*=")),
)
_SHAPE_WORDS = frozenset(w for w, _, _ in _CODE_WORD_SHAPES)  # the "g_shape" words
# Arithmetic: the text's bytes with every digit made "9" and every other byte but
# operators, brackets and spaces made "a", then counted for "9+9", "9 * 9" ...
# (bytes.count is a C-level search; a regex scanning for \d cost 35 ns a character).
# "-" and "/" count only with spaces around them: 2024-05-01 and 3/4 of a cup are not sums.
_EXPR_TABLE = bytes(ord("9") if chr(c).isdigit() and c < 128 else c if chr(c) in "+*=^<>()-/ ,." else
                    ord("a") if c < 128 and (chr(c).isalpha() or chr(c) == "_") else ord("#")
                    for c in range(256))
# One pass: the pattern starts with the literal "9", which the engine finds with a fast search.
_EXPR_MASKED = re.compile(rb"9(?: ?[+*=^<>] ?| [-/] )[9(]")
# Maths marks, each behind a one-character guard (a memchr) so prose pays almost nothing.
# ("% of " with its space: "15% of 80" is maths, "15% off" a sale.)
_EXPR_MARKS = (("^", ("x^", "n^", ")^")), ("(", ("f(x)", "sqrt(")), ("/", ("dy/dx",)), ("%", ("% of ",)))
_PLAIN_PHRASES = ("plain english", "plain language", "simple terms", "simple words", "simple english",
                  "eli5", "layman")
_FIELD_WORDS = frozenset(("field", "fields"))
# "What does this say?", "what does this guest want?" over a text in another language: read it for me.
_WHAT_SAYS_RE = re.compile(r"what does (?:it|this|that|the|my|her|his|our|their)(?: [a-z'-]+){0,2} "
                           r"(?:say|mean|want)\b|what (?:is|'s) (?:it|this) saying")
# A translation asked without a translate verb ("wie sagt man ... auf Japanisch?", "auf Englisch bitte:").
_SAY_IN = _Phrases(
    "wie sagt man", r"how do (?:you|i) say", r"comment (?:dit-on|on dit)|cómo se dice|come si dice",
    r"auf (?:englisch|deutsch|japanisch|französisch|spanisch|italienisch|chinesisch|polnisch)\b",
    # "Jak po angielsku powiedzieć ...?", "jak się mówi po niemiecku"
    r"jak (?:(?:się )?(?:mówi|mowi|powiedzieć|powiedziec) po \w+|po \w+ (?:powiedzieć|powiedziec))",
    # Hindi and Hinglish: "इसे अंग्रेज़ी में लिख दो", "isko english mein likh do"
    r"(?:अंग्रेज़ी|अंग्रेजी|हिंदी|हिन्दी) में (?:लिख|बोल|बता|कह)",
    # Greek: "πώς λέμε στα αγγλικά", "πώς λένε στα γερμανικά"
    r"πώς (?:λέμε|λένε|λέγεται) στα ",
    at_word=tuple(language + r" mein (?:likh|bol|bata|kaho|translate)"
                  for language in ("english", "hindi", "angrezi")))
# A how-to's opening in the languages a one-line how-to is read in.
_HOW_OPENING = re.compile(r"\s*(?:how|cómo|como|comment|wie|come|hoe)\b")
# A human language as a translation's target ("into Spanish"): the text's code words are its subject.
# Languages named as a translation's target ("into Spanish") or asked again ("and in Thai?").
_LANGUAGES = ("spanish|french|german|italian|portuguese|dutch|english|japanese|chinese|korean|russian|polish|"
              "swedish|turkish|greek|arabic|hindi|ukrainian|czech|danish|norwegian|finnish|tagalog|vietnamese|"
              "mandarin|thai|indonesian|hebrew|persian|romanian|hungarian|farsi|finglish|malay|catalan|croatian|"
              "serbian|bulgarian|slovak|slovenian|lithuanian|latvian|estonian")
# A follow-up asking the same text again in another language, however long its reason: "now the same in
# finglish, some older patients can't read farsi script".
_SAME_IN = re.compile(r"\s*(?:(?:now|and|ok|okay|great|thanks),? )?(?:the same|same thing|same|that|this|it)"
                      r"(?: one| text| message)? (?:in|into) ")
_WRITE_IN = _Phrases(at_word=(r"write (?:my|our|this|these|those|the|it|them)\b(?: [\w-]+){0,3} in (?:"
                               + _LANGUAGES + r")\b",))
_INTO_LANGUAGE = _Phrases(at_word=(r"in(?:to)? (?:" + _LANGUAGES + r")\b", r"to (?:" + _LANGUAGES + r")\b"))
_LANGUAGE_NAME = re.compile(r"\b(?:" + _LANGUAGES + r")\b")
_TRANSLATE_STEMS = ("translat", "tradu", "tradú", "übersetz", "vertaal", "vertal", "перев", "перекла",
                    "tłumacz", "isalin", "översätt", "oversett", "oversæt", "翻", "訳", "語にして", "번역",
                    "แปล", "terjemah", "अनुवाद", "anuvad", "anuvaad", "käänn", "תרגם", "תרגום", "ترجمہ",
                    "fordít", "μετάφρ", "metafra", "přelož", "preloz", "překlad", "preklad")
# The sum or average of a short list of figures and nothing else ("average of 12, 15, 9, 22 and 31?"):
# one operation, a small model's job (a word problem around it is not).
# ("avg of 38, 41, 29? lunch covers last week": a few words after it say what the figures are.)
_LIST_AGGREGATE = re.compile(r"(?:average|avg|mean|sum|total|median) of (?:these|those|the following)?:? ?"
                             r"(?:[\d.]+(?:, ?| and | & |,? and ))+[\d.]+\s*\??(?:\s+[^?\d]{1,40})?\s*$")
_QUANTITY_ASKED = _Phrases(r"how (?:many|much|long|far|old)\b", at_word=(r"calculate\b", r"work out\b"))
_GAME_PHRASES = ("role-play", "roleplay", "role play", "in character", "jeu de rôle", "juego de rol",
                 "rollenspiel", "gioco di ruolo")
# Languages a small model reads as well as English: a short everyday ask in one of them is not biased up
# for its language alone. (Swedish, Norwegian and Danish joined when three sets from Gothenburg, Oslo and
# Stockholm labelled their short everyday asks, "cannot tell" and so biased up, as small-model work;
# Hungarian and Vietnamese when two Budapest sets and a Hanoi set did the same.)
_LOOKUP_LANGUAGES = frozenset(("en", "de", "fr", "es", "it", "pt", "nl", "id", "hi", "ro", "sv", "no", "hu",
                               "vi"))
# "smartctl summary below": a pasted summary (the material), not an ask for one.
_SUMMARY_PASTED = re.compile(r"summary (?:below|above|attached|output)|summary\(")  # (R's "summary(m)")
# A line that names its field: 'key: value', 'key = value', a PGN tag '[Event "..."]'.
_KEY_VALUE_LINE = re.compile(r"^[ \t]*\[?[a-z][a-z0-9_ -]{1,24}\]?[ \t]*(?:[:=]|\")", re.MULTILINE)
_REPLY_TO = _Phrases(at_word=tuple(
    verb + r"(?: to (?:this|that)(?: one)?(?: pls| please)?:|"
    r" to (?:this|that|the|her|his|their|my|a|an)(?: [a-z'-]+){0,2} (?:review|email|e-mail|mail|message|msg|"
    r"text|comment|customer|letter|post|complaint|invite|invitation|note|dm)s?\b|"
    # "help me answer this parent", "how do I reply to my landlord"
    r"(?: to)? (?:this|that|the|her|his|my|our)(?: [a-z'-]+)? (?:parent|mum|mom|dad|customer|client|teacher|"
    r"landlord|neighbou?r|boss|colleague|recruiter|tenant|guest|supplier|vendor)s?\b)"
    for verb in ("reply", "respond", "answer")))
_SOUND_PHRASES = re.compile(r"sounds? (?:more|less)|make (?:it|this) sound")
# "Make this less passive-aggressive", "make it way shorter", "make this slack msg friendlier": a text
# to rewrite (guarded by "make"). With code words about, only a tone asked for is a rewrite
# ("make it more pythonic" is code).
_MAKE_IT = re.compile(r"make (?:(?:this|that|the|my)(?: [a-z'-]+)? (?:msg|message|email|e-mail|mail|text|"
                      r"note|post|letter|reply|wording|paragraph|intro|bio|answer|tweet|caption|description|"
                      r"announcement|draft|version) |this |it |that )"
                      r"(?:a bit |a little |a lot |much |way |slightly )?(?:less|more|shorter|longer|nicer|"
                      r"friendlier|politer|polite|clearer|simpler|warmer|firmer|softer|punchier|snappier|kinder|"
                      r"tighter|formal|casual|professional)\b")
# (Spanish and Portuguese: summarise.)
_RESUME_ES = re.compile(r"\bresume (?:este|esta|estos|estas|el|la|los|las|lo|en|em|pra|para|isso|isto|essa|"
                        r"esse|o|a|os|as)\b|\bme resume\b")
_SUM_UP = re.compile(r"sum (?:it |this |that |these |them |everything |all of (?:it|this) )?up\b")
# Asks for a judgement on a text besides putting it in plain words.
_JUDGE_PHRASES = ("flag ", "point out", "unusual", "unfavourable", "unfavorable", "red flag", "watch out for",
                  "anything wrong", "should i sign", "is it fair", "is this fair",
                  # what could go wrong for the asker before signing
                  "could bite", "what's the catch", "whats the catch", "before i sign", "before we sign",
                  "means for us", "means for me", "mean for us", "mean for me",
                  # what a policy or a contract means for the asker: an interpretation, not a condensing
                  "actually cover", "does it cover", "does this cover", "am i covered", "are we covered",
                  "where we stand", "where i stand", "am i entitled", "are we entitled", "my rights",
                  # what a notice changes for the asker ("only what actually changes for us", "affect us")
                  "changes for us", "changes for me", "need to do anything", "affect us", "affects us",
                  "affect me", "affects me", "változik nekünk", "változik számunkra", "rosszabb lesz",
                  # two texts weighed against each other: where they disagree, whether they reconcile
                  "contradict", "disagree", "contradiz", "contradicen", "contredisent", "discordam",
                  "discordan", "conciliar", "widersprech",
                  # in Japanese and Chinese: what happens (to me), what to watch out for, what is unfavourable
                  "どうなる", "注意点", "不利", "会怎样", "怎么办", "要注意", "对我",
                  # what is risky or against the asker, in English and Indonesian
                  "risky for me", "risky for us", "berisiko", "merugikan")
_JUDGE = _GuardedPhrases(_JUDGE_PHRASES, WORDS["g_judge"])
# Openings of an ask for a plan, a design or a program: never a one-line how-to, however short.
# A plan of the asker's own weeks ("8 week plan to prep for backend interviews", "3 weeks left in the
# semester: algorithms final ... make me a realistic plan"): its subjects are topics to study, not code.
_PLAN_AFTER = re.compile(r"(?:plan|schedule|timetable)\b[^.?!\n]{0,40}?\b"
                         r"(?:to (?:prep|prepare|learn|study|revise)|"
                         r"for (?:my |the )?(?:exams?|finals?|interviews?|mocks?))\b")
# Words just before "plan": "make me a (realistic) plan", "a week by week plan".
_PLAN_JUST_BEFORE = ("make me a ", "make me a realistic ", "make me a weekly ", "make me a study ",
                     "week by week ", "week-by-week ", "weekly ", "daily ", "day by day ", "day-by-day ")
# Topics of a plan of the asker's weeks, named before "plan" (whole words: "for example, plan ..." is none).
_PLAN_TOPICS = re.compile(r"\b(?:study|revision|learning|prep|training|interview|exams?)\b")
_PLAN_STEMS = ("plan", "schedule", "timetable")  # the words _study_plan looks around
# (Not "write-offs": "christmas day and boxing day are write-offs".)
_PROGRAM_ASKED = re.compile(r"\b(?:script|program|function|app|bot|tool|code|implement|write|debug|fix|"
                            r"refactor)\b(?!-)")
# Names to invent ("a funny name for the club's robot", "un nom rigolo pour", "Namensideen für"): writing.
_NAMING = _Phrases(
    at_word=(r"n(?:ame ideas|oms? (?:rigolos?|drôles?|sympas?|originaux|original) pour|"
             r"ombres? (?:divertidos?|graciosos?|originales?|bonitos?) para|amensideen|"
             r"omi? (?:divertent[ei]|simpatic[oi]|originali?) per)\b", r"leuke namen? voor\b"),
    after=((r" names? (?:ideas? )?for\b",
            r"\b(?:funny|cool|good|catchy|cute|clever|fun|nice|short|creative)\Z", 8),))
# A summary asked this short ("in 2 sentences", "in one line", "in 3 bullet points"; "em duas linhas", "en dos
# líneas", "en deux phrases", "in zwei Sätzen", "in tre righe").
_BRIEF_COUNT = r"(?:uma|duas|três|tres|una|dos|deux|trois|zwei|drei|due|tre|1|2|3) "
_BRIEF_UNITS = (r"(?:linhas?|frases?|líneas?|lineas?|lignes?|phrases?|sätzen|zeilen|righe|bullets?|tópicos|"
                r"pontos|puntos|punti|points|punkten)")
_BRIEF = _Phrases(
    "nur das wichtigste",
    at_word=(r"in (?:(?:one|two|three|a|1|2|3) (?:short )?"
             r"(?:sentences?|lines?|bullets?(?: points)?|bullet points?)|"
             r"poche (?:righe|parole)|het kort|" + _BRIEF_COUNT + _BRIEF_UNITS + r")\b",
             r"en (?:bref|pocas palabras|" + _BRIEF_COUNT + _BRIEF_UNITS + r")\b",
             r"em (?:poucas palavras|" + _BRIEF_COUNT + _BRIEF_UNITS + r")\b",
             # "kurz zusammenfassen", "brièvement", "brevemente"
             r"kurz\b", r"b(?:riefly|rièvement|revemente)\b", r"just the gist\b", r"tl;?dr\b",
             # Greek: "σε 3 κουκκίδες", "σε δύο προτάσεις", "με δυο λόγια"
             r"σε (?:μία|μια|δύο|δυο|τρεις|1|2|3) (?:γραμμές|γραμμή|κουκκίδες|προτάσεις|πρόταση)",
             r"με (?:δύο|δυο) λόγια"))
# "Truth" in the languages where the puzzle words have it alone (English has "truth-teller"): a puzzle
# word only beside another ("Lügner", "menteur").
_TRUTH_WORDS = frozenset(("wahrheit", "vérité", "verdad", "verità", "sanning", "sanningen"))
# A conversion to a format opening the ask ("turn these notes into a CSV:", "can you put this in a table").
_TO_FORMAT = re.compile(_POLITE +
                        r"(?:turn|convert|put|format|make|pull|get|grab|dump|give me) "
                        r"(?:[a-z']+ ){0,4}(?:into|to|in|as) (?:a |an )?"
                        r"(?:csv|json|yaml|xml|table|spreadsheet)\b")
# A text to write in the other languages the scorer reads: the verb, an article, a text.
_WRITE_TEXT = _Phrases(at_word=tuple(
    verbs + " "
    r"(?:mir |me |mi |moi |nam |mi |vir my )?"
    r"(?:una?|un'|il|la|lo|el|une?|le|l'|eine[nm]?|ein|die|den|das|o|a|um|uma|een|de|het|'n)\s?"
    r"(?:[\w'-]+ ){0,2}"
    r"(?:descrizione|descripción|description|beschreibung|descrição|beschrijving|opis|lettera|carta|lettre|"
    r"brief|list|mail|e-mail|email|correo|messaggio|mensaje|message|nachricht|mensagem|bericht|wiadomość|"
    r"biglietto|tarjeta|carte|karte|kaart|kartkę|post|annuncio|anuncio|annonce|anzeige|anúncio|"
    r"risposta|respuesta|réponse|antwort|resposta|antwoord|odpowiedź|mot|nota|notiz|note|testo|texto|texte|"
    r"text|tekst|recensione|reseña|avis|bewertung|presentazione|presentación|présentation|vorstellung|"
    r"paragraaf|gebed|boodskap|kaartjie)\b"
    # The verbs, by their first letters: the imperative, and the infinitive after "aide-moi à", "ayúdame a",
    # "aiutami a", "me ajuda a".
    for verbs in (r"s(?:crivi(?:mi|ci)?|crivere|chreibe?|chrijf|kryf)",
                  r"escr(?:[ií]be(?:me)?|eve|eva(?:-me)?|ibir|ever)", r"red(?:acta|áctame|actar)",
                  r"rédige(?:-moi|r)?", r"écri(?:s(?:-moi)?|re)", "verfasse", "napisz", r"ha(?:zme|ceme)")))
# A conversation's language set by its system prompt or earlier turns: "speak mostly in Kikuyu", "answer in
# Welsh", "reply only in Swahili".
_DESIGN_ASKS = ("plan ", "design ", "architect ", "propose ", "make a ", "make an ", "make me ")
# An explanation asked for a newcomer (guarded by the "g_plain" words).
_SIMPLE_PHRASES = (*_PLAIN_PHRASES, "like i'm", "like im ", "like i am",
                   # fr de es it pt: "version simple", "comme si j'avais 70 ans", "einfach erklärt"
                   "version simple", "simplement", "termes simples", "comme si j'avais", "pour un enfant",
                   "einfach erklär", "einfache worte", "als wäre ich", "für ein kind", "sencill",
                   "como si tuviera", "para un niño", "parole semplici", "in modo semplice",
                   "come se avessi", "per un bambino", "termos simples", "como se eu tivesse",
                   "para uma criança")
_SIMPLE = _GuardedPhrases(_SIMPLE_PHRASES, WORDS["g_plain"])
# Maths or logic at school level: a child's homework, a puzzle from a child's book, a pupil's age or grade.
_CHILD = r"(?:kid|son|daughter|grandson|granddaughter|nephew|niece)"
_SCHOOL_LEVEL = re.compile(r"homework|hausaufgabe|devoirs|deberes|compiti|worksheet|textbook|puzzle book|"
                           r"\bschool\b|\bgrade \d|\byear \d\b|\b\d{1,2}[- ]?(?:year|yr)s?[- ]?old|"
                           r"\b" + _CHILD + r"(?:'s)? (?:\w+ )?(?:book|class|exam|test|teacher)\b|"
                           r"\b" + _CHILD + r" \(\d{1,2}\)")
# A pupil's olympiad or contest problem is competition maths, however young the pupil.
_COMPETITION = ("olympiad", "olimpiad", "olimpíad", "putnam", "competition", "contest")
# The counting problems of competitions: a condition on positive integers, integer solutions or ordered
# pairs to count, or ways counted under a restriction ("how many ways to place 16 kings so that no two
# attack", "сколькими способами ... чтобы никакие два"). Every labelled prompt with one accepts the
# large model.
# (Each pattern opens on a literal, which the engine finds with a fast search, and what must come before
# it is checked at each find: one pattern opening on a word boundary cost 110 us on 1,150 characters
# that say "integers".)
_INTEGER_WORD = re.compile(r"integers?\b")
_INTEGER_BEFORE = re.compile(r"\b(?:positive|non-negative|nonnegative) \Z")
_INTEGERS_BEFORE = re.compile(r"\b(?:pairs|triples) of \Z")
_INTEGER_PAIRS = re.compile(r"\binteger (?:solutions|pairs)\b")
_ORDERED_TUPLES = re.compile(r"ordered (?:pairs|triples)\b")
_ORDERED_WORD = re.compile(r"\bordered")
# ... and the same condition in other languages: "(x, y) pozitív egész számpár", "entiers strictement
# positifs", "в целых числах".
_INTEGERS_ELSEWHERE = _Phrases(
    at_word=(r"entiers (?:strictement )?positifs", r"solutions entières", r"enteros positivos",
             r"soluciones enteras", r"inteiros positivos", r"soluções inteiras", r"interi positivi",
             r"soluzioni intere", r"pozitív egész", r"positive[nr]? ganze[nr]? zahl", r"ganzzahlige lösung",
             r"в целых числах", r"целых положительных", r"положительных целых",
             r"dodatnich liczb całkowitych", r"liczb całkowitych dodatnich"))
# (Searched in a text that is not ASCII, or holds one of these: French, Spanish, Portuguese, Italian and
# German written without accents.)
_INTEGER_STEMS = ("entier", "entero", "entera", "inteiro", "inteira", "interi", "intere", "ganz")
_WAYS_WORDS = (" ways", " способ", " façons", " maneras", "kolika")  # (" ways": not "always")
_COMPETITION_WAYS = re.compile(r"(?:how many|сколькими|сколько|de combien de|de cuántas) (?:different )?"
                                r"(?:ways|способами|способов|façons|maneras)\b[^?]{0,160}?"
                                r"(?:no two|so that no|such that|никакие|никакая|никакой|deux .{0,20}ne|"
                                r"ningún|ninguna)|"
                                # Czech, with and without diacritics: "kolika způsoby ... aspoň 1 a nikdo"
                                r"kolika (?:způsoby|zpusoby)\b[^?]{0,160}?(?:nikdo|žádn|zadn|aspoň|aspon)")
# A functional equation, "find all functions f: R -> R such that ...", in five languages: a competition's
# problem too, and every labelled one asks the large model. (Its own pattern, run only beside "f(": in the
# pattern above it cost code prompts that say "functions" 44 us.)
_FUNCTIONAL_EQUATION = re.compile(r"(?:all|les|las|alle|все) (?:functions|fonctions|funciones|funktionen|"
                                  r"функции) (?:f\b|from |on |over |satisfying |such that)|"
                                  r"كل الدوال (?:f\b|من )|όλες οι συναρτήσεις (?:f\b|από )")  # noqa: RUF001 (Greek)
# ... or for a child, a parent or a beginner: "in a way a 10 year old gets", "my grandson says",
# "for someone who's never written threaded code", "my son's homework (grade 4)".
_LAY_AUDIENCE = _Phrases(
    at_word=(*(owner + r" (?:kids?|son|son's|daughter|daughter's|grandson|granddaughter|nephew|niece|mum|"
               r"mom|dad|grandma|grandpa|grandmother|grandfather|child|children)\b"
               for owner in ("my", "our")),
             r"for (?:a )?(?:beginners?|kids|children|child|non-technical)",
             r"never (?:written|coded|programmed|done)", "non-technical",
             # "meiner Tochter (14)", "à ma fille", "para mi hijo"
             *(owner + r" (?:tochter|sohn|kind|kindern|enkel|enkelin|mutter|vater|oma|opa)"
               for owner in ("mein(?:er|em|en)", "unser(?:er|em)")),
             *(to + r" (?:ma|mon|mes) (?:fille|fils|enfants?|mère|père|petite-fille|petit-fils)"
               for to in ("à", "pour")),
             *(to + r" (?:mi|mis) (?:hija|hijo|hijos|madre|padre|abuela|abuelo|nieta|nieto)\b"
               for to in ("a", "para"))),
    # "a 10 year old", "9-year-olds"
    after=((r"olds?", r"\b\d{1,2}[- ]?(?:year|yr)s?[- ]?\Z", 9),))
_DIGEST_PHRASES = ("what was decided", "what we decided", "still open", "action items", "open points",
                   "open questions", "action points")
# ... or asked as a question of what was settled ("what did we actually decide in the end??").
_DID_DECIDE = ("did we decide", "did we actually decide", "did they decide", "did we agree",
               "did we actually agree", "did they agree",
               # Hinglish and Roman Urdu: "finally kya decide hua"
               "kya decide hua", "kya decide kiya", "kya decide huwa")
# A one-letter unknown in a relation: "2x + 3 = 11", "x+y = 4z", "|x + 5| < 10".
# Searched from the operator (rare in prose) and checked for the lone letter before it in Python:
# a pattern that starts at every letter cost a code prompt 260k instructions. One pattern per
# operator, each starting with its literal and run only when that operator is in the text: a
# pattern starting with the class [-+*/^] tested every character (11 us on 1,000 characters of
# code with none of them). No match can hold a second operator, so the matches are the same.
_ALGEBRA_TAILS = tuple((op, re.compile(re.escape(op) + r" ?\w+ ?[|)]? ?[=<>]")) for op in "-+*/^")
_EXPR_SYMBOLS = ("∫", "√", "∑", "∏", "≤", "≥", "≠", "∞", "\u00d7", "\u00f7", "²", "³")
# Pi as a symbol ("2πr"), not the letter of a Greek word ("Πήλιο", "περπατάει").
_LONE_PI = re.compile(r"(?<![\u0370-\u03ff])π(?![\u0370-\u03ff])")
# Numbers: digit runs, counted on the same mask as the last "9" of each run. Not rb"9+",
# which has no literal prefix to skip ahead to (40% more instructions for a whole code
# decision), nor a second translation with everything but digits made spaces and split
# (9 instructions a byte, then an object per number). A decimal point or a thousands comma does
# not end a number: "2,450" and "0.84" are one each ("18% of 2,450" is one-step arithmetic);
# "0,0,1,45" is four. Nor does the space of French and German thousands: "2 340" is one, nor a decimal
# comma before a percent or currency sign: "17,5 %" and "125,00 $" are one each.
_RUN_END = re.compile(rb"9(?!9|\.9|,999(?!9)| 999(?!9)|,99? ?#)")
# A fraction written in digits ("3/4"), on the digit mask.
_FRACTION = re.compile(rb"9/9")
# A date, on the digit mask: "03/09/2024" (three digit runs and two "fractions"), "2024-09-03".
_DATE = re.compile(rb"9/99?/9|9999-99-99")
# An item number opening a line of a list: "\n3. ", "\n12) ".
_LIST_NUMBER = re.compile(r"\n[ \t]*\d{1,2}[.)] ")

# (first word, pattern): a pattern runs only when its first word is among the prompt's
# words, and starts with that literal, which the engine finds with a fast search.
# Several unknowns asked from the givens ("a perimeter of 40 cm and an area of 96 cm²: what are its
# dimensions?", "two numbers sum to 42 and differ by 8: find them"): simultaneous equations, never one
# step (guarded by the "g_unknowns" words).
_TONE = re.compile(r"passive|aggressive|rude|harsh|blunt|snarky|defensive|grovel|apologetic|polite|"
                   r"friendl|formal|casual|professional|warm|firm|soft|kind|"
                   # a reader who is no engineer: the register is the ask
                   r"non-technical|non technical|nontechnical|no jargon|without jargon|layman|laymen")
# "Can you rewrite this for a non-technical client? ...": a rewrite asked in the ask's first words.
_REWRITE_ASK = re.compile(r"\s*(?:(?:can|could|would) you (?:please |pls )?|please |pls |plz )"
                          r"(?:rewrite|rephrase|reword|paraphrase|proofread|polish)\b")
_SEVERAL_UNKNOWNS = _Phrases(
    r"dimens(?:ions|iones|ioni|ões)", "abmessungen", "seitenlängen",
    r"what are (?:they|the (?:two )?numbers)",
    r"find (?:them|both|the (?:two )?numbers)")
_WORD_PROBLEM_PHRASES = (
    ("how", re.compile(r"how (?:many|much|long|far|old|fast)\b")),
    ("what", re.compile(r"what (?:percentage|fraction|(?:is|was|will be|would be) the (?:total|probability|"
                        r"average))\b")),
    ("per", re.compile(r"per (?:hour|day|week|month|year|minute|second|kg|item|person)\b")),
    ("wie", re.compile(r"wie viel")),
)
# Each starts with a literal, which the engine finds with a fast search.
_STORY = tuple(re.compile(start + r" (?:a|an|the|she|he|they|i|we|john|mary)\b[^.?]{0,60}\b(?:has|have|had|"
                          r"buys?|bought|sells?|sold|travels?|drives?|runs?|earns?|spends?|costs?|pays?|"
                          r"gives?)\b") for start in ("if", "when"))
_STORY_WORDS = ("if", "when")
# A statistical model's results: coefficients, standard errors, p-values, intervals, R². (Two of them
# make a results table; "estimate" alone is everyday English.)
_STATS_RESULT = re.compile(r"pr\(>\|[tz]\|\)|std\. ?error|\bse\(coef\)|\bp-value|\bp ?[<=] ?0?\.\d|"
                           r"95% ?ci\b|\bodds ratio|r-squared|\br²|\bcoef\b|\bestimate\b")
# Literals one of which each result above contains: those that can only ever match one way, and those
# that can match several ("p<0.05", "p = 0.01"). Fewer than two possible results and the pattern, which
# opens on word boundaries and so is tried at every position (300 us on a 2,000-character notice that
# says "estimate"), is not run.
_STATS_ONE_WAY = ("se(coef)", "p-value", "95%", "odds ratio", "r-squared", "r²", "coef", "estimate")
_STATS_MANY_WAYS = ("pr(>|", "std.", "p<", "p=", "p <", "p =")
_FIGURE_QUESTION = re.compile(r"\bwhat(?:'s| is| do| does| would| should)|\bhow (?:much|many)\b")
# A probability in notation, "P(exactly 2 red)", "P(sum is 8)" (looked for only beside a random device).
_PROB_NOTATION = re.compile(r"\bp\([^()\n]{1,40}\)")
# A habit's hour, not two things at once: "at the same time each day", "at the same time every night".
_SAME_TIME_DAILY = re.compile(r"at the same time (?:each|every|daily|of day|in the)")
# An ask that opens by asking for an explanation of how or why something happens. (Not "why does my
# service deadlock": the asker's own bug to diagnose.)
_EXPLAIN_OPENING = re.compile(r"\s*(?:(?:can|could) (?:you|someone|anyone) |pls |please )?(?:explain|"
                              r"how (?:exactly )?(?:does|do|is|are|can)|"
                              r"why (?:does|do|is|are|would)(?! (?:my|our)\b)|"
                              r"walk me through|what (?:exactly )?happens)\b")
# Calculus asked with a verb ("integrate x^2 e^(-x) dx"): the nouns are advanced maths already, and a
# verb with one expression is no one-step arithmetic however few its figures.
_CALCULUS = re.compile(r"\b(?:integrat|differentiat|antideriv)")
# A recurrence: "a(n) = a(n-2) + a(n-3)", "f(n) = 2f(n-1) + 1", "a_n = a_{n-1} + n".
_RECURRENCE = re.compile(r"\b[a-z](?:\((?:n|k)\)|_\{?(?:n|k)\}?) ?= ?[^=\n]{0,30}?[a-z](?:\((?:n|k) ?- ?\d\)|"
                         r"_\{(?:n|k) ?- ?\d\})")
# A condition on the numbers sought ("all primes p such that p^2 + 2 is prime", "tous les entiers n tels
# que", "semua bilangan prima p sehingga"): a problem to reason out, however few its figures.
_SUCH_THAT = re.compile(r"\b(?:such that|tel(?:le)?s? que|tal(?:es)? que|tali che|tale che|so dass|sodass|"
                        r"sehingga)\b")
# An equation of figures, x, brackets and the four operations around one "=" (its sides end where any other
# letter or sign begins).
_EQUATION = re.compile(r"[\d x+\-−*/().]*=[\d x+\-−*/().]*")  # noqa: RUF001 (the minus sign, U+2212)
# ... and what makes one not linear: x times x, x in a bracket times a bracket, x divided into.
_NONLINEAR_MARKS = ("x(", ")(", "xx", "x x", "x*x", "/x", "/(", ")x")
# ... or anywhere in the ask, a power, a root or a function of x.
_POWER_MARKS = ("²", "³", "^", "**", "√", "sin", "cos", "tan", "log", "exp", "ln(", "sqrt")
# Words that make a how-many one to solve or explain, not a fact to look up: what a counting problem counts
# (numbers, digits, ways, arrangements), an average to work out, a clock puzzle, an explanation asked.
_COUNTING_WORDS = ("number", "digit", "ways", "combination", "arrange", "explain", "average", "ordered",
                   "clock", "hour hand", "minute hand", "números", "cifras", "nombres", "zahlen", "numeri")
# Numbers two to twelve spelled out in the languages with a how-many word in _VOCAB (not those that are also
# common words elsewhere: "once", "due", "elf", "sei", "sept").
_NUMBER_WORDS = frozenset((
    "deux trois quatre cinq huit neuf dix onze douze dos tres cuatro cinco seis siete ocho nueve diez doce "
    "dois duas três quatro sete oito nove dez doze tre quattro cinque sette otto dieci undici dodici "
    "twee drie vier vijf zes zeven acht negen tien twaalf два три четыре пять шесть семь восемь девять "
    "десять").split())
_ADVICE_AMOUNT = re.compile(r"how (?:long|much|many|often)(?: [a-z]+){0,2} should\b")
# "How many grams in an ounce", "how many seconds are there in a day": one unit in another.
_CONVERSION = re.compile(r"how (?:many|much) [a-z]+ (?:are |is )?(?:there )?in (?:a|an|one) [a-z]+\??\s*$")
_CURRENCY = ("$", "€", "£", "¥", "%")
_REASONING_PHRASES = (
    ("step", re.compile(r"step[- ]by[- ]step")), ("step-by-step", re.compile(r"step-by-step")),
    ("show", re.compile(r"show (?:that|your work)")), ("explain", re.compile(r"explain your reasoning")),
    ("which", re.compile(r"which of the following")), ("what", re.compile(r"what comes next")),
    ("true", re.compile(r"true or false")), ("think", re.compile(r"think carefully")),
    # Guarded by "only", not "if": the phrase holds " only " as a word of its own, and "if" is in
    # most code prompts (a re scan of the ask each).
    ("only", re.compile(r"if and only if")), ("at", re.compile(r"at (?:least|most)\b")),
    ("no", re.compile(r"no (?:more|fewer) than")), ("exactly", re.compile(r"exactly (?:one|two)\b")),
    ("who", re.compile(r"who (?:is lying|is telling|owns)")),
    ("how", re.compile(r"how (?:to|(?:can|could|would|do|will) you) (?:tell|determine|know|figure out|"
                       r"find out|decide)")),
    # Naming the likeliest cause, reasoning a case through.
    ("likely", re.compile(r"likely (?:cause|explanation|reason)")),
    ("reason", re.compile(r"reason (?:it |this |that )?through")),
    ("only", re.compile(r"only (?:once|one|twice)\b")),
)
# guard word -> its phrases: a prompt pays for the guards among its words, not a test of all 17.
_REASONING_BY_WORD: dict[str, tuple[re.Pattern[str], ...]] = {}
for _word, _pattern in _REASONING_PHRASES:
    _REASONING_BY_WORD[_word] = (*_REASONING_BY_WORD.get(_word, ()), _pattern)
_REASONING_WORDS = frozenset(_REASONING_BY_WORD)
# Judging an argument's validity is a logic exercise, like a syllogism.
# ("Is that logically valid?" too; but "make this sound friendlier" is a tone rewrite.)
_ARGUMENT = _Phrases(after=(
    (r"valid\b", r"(?:(?:argument|arguments|inference|conclusion|reasoning)(?: is| was| are)?|"
                r"(?:that|this|it|they|these|both)(?: is| was| are| were)?|"
                r"\bare (?:they|these|both|the arguments))"
                r"(?: logically)? (?:in)?\Z", 32),
    (r"sound\b", r"(?:(?:argument|arguments|inference|conclusion|reasoning)(?: is| was| are)?|"
                r"\bare (?:they|these|both|the arguments))(?: logically)? \Z", 32)))
# "Show that every group ... is abelian": a proof ask ("show that in a table" is not).
_SHOW_THAT = re.compile(r"show that (?!in |to |on |with |it |as )")
# ... unless a subject comes before it: a statement in a pasted text ("our records show that", "we further
# show that") asks for no proof. (Checked on each match: twenty lookbehinds in the pattern cost 0.5 ms on
# a 2,000-character prompt.)
_STATEMENT_SUBJECTS = frozenset((
    "we", "they", "also", "further", "would", "could", "will", "results", "records", "data", "studies",
    "findings", "experiments", "figures", "tests", "numbers", "logs", "charts", "graphs", "scans"))
# Words that ask for a proof only in these phrases (guarded by the "g_proof" words): a volunteer's
# induction or an induction hob, "demonstrate how to use rsync", where a word derives from, and a
# contradiction between a landlord's two letters are not proofs.
_PROOF_PHRASE = _Phrases(
    r"induct(?:ion|ive) (?:on |over |step|hypothesis|case)", "demonstrate that", "derive (?!from)",
    "nem (?:megy|lehet) kevesebből",
    after=((" induction", r"(?:by|strong|mathematical|structural|complete|use|using)\Z", 12),
           (" contradiction", r"(?:by|to a|reach a|get a|obtain a)\Z", 8),
           # "com prova", "con prueba", "avec preuve", "mit Beweis": with proof
           *((proof + r"\b", r"\b(?:com|con|avec|mit|con la|com a) \Z", 7)
             for proof in ("pr(?:ova|ueba|euve)", "beweis", "dimostrazione")),
           # a minimum to prove minimal: "and why it can't be done in fewer"
           ("fewer", r"\b(?:can'?t|cannot|can not|couldn'?t)(?: it| this)? be "
                     r"(?:done |solved )?(?:in|with) \Z", 32)))
# (guard word, phrase): phrases that mark a bug as intermittent or input-dependent, besides the
# "flaky" words; a phrase is searched only when its guard is among the prompt's words (a
# substring scan of a 2,000-character prompt costs a microsecond or two, fourteen of them a third
# of a code decision).
_FLAKY_PHRASES = (("under", "under load"), ("production", "in production"), ("inputs", "some inputs"),
                  ("few", "every few"))
# Phrases that restrict how code may be written, besides "without".
_RESTRICT_PHRASES = (("no", "no libraries"), ("no", "no external"), ("no", "no eval"), ("use", "don't use"),
                     ("use", "do not use"), ("just", "doesn't just"), ("just", "not just"),
                     ("only", "only using"), ("must", "must not"))
# guard word -> (signal, phrase) pairs, so a code prompt pays one set intersection when no guard is there.
_GUARDED_PHRASES: dict[str, tuple[tuple[str, str], ...]] = {}
for _signal, _pairs in (("flaky", _FLAKY_PHRASES), ("restrict", _RESTRICT_PHRASES)):
    for _guard, _phrase in _pairs:
        _GUARDED_PHRASES[_guard] = (*_GUARDED_PHRASES.get(_guard, ()), (_signal, _phrase))
_PHRASE_GUARDS = frozenset(_GUARDED_PHRASES)
_SYLLOGISM = tuple(re.compile(start + r" \w+ are \w+\b[^.?]{0,80}\b(?:all|some|no) \w+ (?:are|be) \w+")
                   for start in ("all", "some"))
# Searched only up to the last "?" (it must follow the question word): a trailing "[^?]*\\?" made
# every "if" in a code prompt scan to its end (65 us on a 2,000-character prompt).
_IF_THEN = re.compile(r"if\b[^?.]{5,160}\b(?:what|how|which|who|where|when)\b")
_FORMATS = ("json", "yaml", "csv", "xml", "table", "key-value", "key value")
_FORMAT_BEFORE = re.compile(r"(?:\bas|\bin|\binto|\bto|\breturn|\boutput|\bvalid|\ben|\bem|\bau) "
                            r"(?:a |an |the )?(?:markdown )?$")
_LIST_ALL = re.compile(r"list (?:all|every|each) (?:the )?(?:names?|dates?|emails?|people|entities|items?|"
                       r"companies|addresses)\b")
_ROLEPLAY_PHRASES = ("pretend to be", "pretend you", "act as", "let's play", "lets play", "roleplay",
                     "text adventure", "choose your own adventure", "choose-your-own-adventure",
                     "role-play", "role play", "in the style of", "stay in character", "you be the ",
                     "you be a ", "you be my ", "you play the ", "you play a ", "i'll play ", "i'll be the ",
                     "i'll respond as", "i'll practise", "i'll practice", "so i can practise",
                     "so i can practice", "let me practise", "let me practice", "let's practise",
                     "let's practice", "lets practise", "lets practice", "interview me", "interviewing me",
                     "i'm practising", "i'm practicing", "im practising", "im practicing", "mock interview",
                     # "Joue le rôle d'un sommelier", "fai la parte del", "haz el papel de", "spiel die Rolle"
                     "joue le rôle", "jouer le rôle", "fais le rôle", "interpreta il ruolo", "fai la parte",
                     "haz el papel", "interpreta el papel", "spiel die rolle", "übernimm die rolle",
                     "speel de rol", "faça o papel", "faz o papel", "faz de conta que", "finge que",
                     "finja que", "haz de cuenta que",
                     # Turkish: "let's play", "play the role", "act as if you were"
                     "oynayalım", "oynayalim", "rol yap", "rolüne gir", "rolune gir", "gibi davran",  # noqa: RUF001 (Turkish dotless i)
                     # Indonesian: "pretend to be", "play the role of"; and a game master to be
                     "pura2 jadi", "pura-pura jadi", "berperan sebagai", "main peran", "dungeon master",
                     # Hebrew: "play (the role of)"
                     "תשחק ", "תשחקי ")
# (Turkish "gibi davran" is searched always: its last word takes endings, "gibi davranır".)  # noqa: RUF003
_ROLEPLAY = _GuardedPhrases(_ROLEPLAY_PHRASES, WORDS["g_role"], always=("gibi davran",))
# (One word may come before the kind of text: "write a product description", "a short bio".)
_ROLEPLAY_WRITE = _Phrases(*(
    verb + r" (?:(?:a|an|me a|me an|the|my|our|us a|up a) )?"
    r"(?:[a-z0-9'-]+ ){0,3}"
    r"(?:poem|story|song|haiku|letter|email|e-mail|toast|speech|limerick|tweet|post|blog|"
    r"description|blurb|bio|message|msg|sms|note|announcement|newsletter|intro|introduction|"
    r"paragraph|caption|invitation|apology|eulogy|label|tagline|slogan)\b"
    # (Not a program's parts: "write a POST handler", "a message queue consumer".)
    r"(?! (?:handler|request|requests|endpoint|route|queue|queues|parser|body|hook|"
    r"bus|broker|schema|type|types|class|struct|method|function|api|id|ids|selector|"
    r"selectors|key|keys|printer|generator|component)\b)" for verb in ("write", "draft", "compose")))
# The ask opens with a persona to play: "Be my rubber duck.", "You're the interviewer for a junior role",
# "On fait un jeu de rôle : tu es serveur". (Not "you're right" or "be careful": a role has an article,
# or is a name, matched on the original case.)
# What "you're the ..." says that is no role ("you're the expert", "be the first").
_NOT_A_ROLE = (r"(?!(?:best|only|first|last|right|same|one|problem|reason|case|answer|way|"
               r"issue|expert|most|bottleneck|culprit|cause|source|output|result|newbie|beginner|boss)\b)")
_PERSONA = re.compile(r"(?:ok(?:ay)?,? |now |please |for (?:my|this) [a-z ]{1,30}: )?"
                      r"(?:be|you're|you are|play) (?:my|the|a|an) " + _NOT_A_ROLE + r"[a-z]"
                      r"|(?:.{0,40}\b)?(?:jeu de rôle|juego de rol|gioco di ruolo|rollenspiel|"
                      r"tu es (?:un|une|le|la|mon|ma) |du bist (?:ein|eine|der|die|mein|meine) |"
                      r"sei (?:un|una|il|la|il mio|la mia) |eres (?:un|una|el|la|mi) |"
                      # "Spiel bitte meinen Vater", "joue le rôle de", "haz de mi jefe", "interpreta il capo"
                      r"spiel (?:bitte )?(?:mein|meinen|meine|den|die|einen|eine) |bleib in der rolle|"
                      r"joue (?:le rôle|mon|ma|un|une) |(?:haz|hacé) (?:de|el papel) |"
                      r"interpreta (?:a |il |la |el |mi |il mio )|fai (?:la parte|finta) |"
                      # "actúa como un cliente", "finge que eres", "fais comme si tu étais", "agis comme"
                      r"actúa como |actua como |finge (?:ser|que eres) |fais comme si tu étais |agis comme |"
                      r"atue como |finja (?:ser|que é) |"
                      # "Sei ein grantiger Wirt", "Kannst du der Chef sein", "Kannst du meine Oma spielen"
                      r"sei (?:ein|eine|der|die|mein|meine) |kannst du (?:der|die|mein|meine|meinen|ein|eine|"
                      r"den) [^.?!,]{1,30} (?:sein|spielen)\b)")
# A role for each side, anywhere in the ask: "you are a waiter in Madrid and I'm the customer".
_PERSONA_PAIR = _Phrases(
    r"you(?:'re| are) (?:a|an|the|my) " + _NOT_A_ROLE +
    r"[^.,;:?!]{1,40}? and i(?:'m| am) (?:a|an|the|your) " + _NOT_A_ROLE,
    r"eres (?:un|una|el|la|mi) [^.,;:?!]{1,40}? y yo soy ",
    r"tu es (?:un|une|le|la|mon|ma) [^.,;:?!]{1,40}? et je suis ",
    r"du bist (?:ein|eine|der|die|mein|meine) [^.,;:?!]{1,40}? und ich bin ",
    r"sei (?:un|una|il|la) [^.,;:?!]{1,40}? e io sono ")
_PERSONA_NAME = re.compile(r"\s*(?:Be|You're|You are|Play) [A-Z][a-z]+\b(?! (?:is|are|was)\b)")
# List items: lines starting "- ", "* ", "1." ... (counted with str.count, C-level).
_ITEM_GUARDS = ("\n-", "\n*", "\n1", "\n\u2022", "\na)")
_ITEM_MARKS = ("\n- ", "\n* ", "\n• ", "\n1.", "\n2.", "\n3.", "\n1)", "\n2)", "\n3)", "\na)", "\nb)")
# The same marks in one pass (they cannot overlap: each holds one newline, at its start).
_ITEM_RE = re.compile("\n(?:[-*\u2022] |[123][.)]|[ab]\\))")
_GREETING = re.compile(r"\s*(?:hi|hello|hey|hiya|yo|thanks|thank you|thx|good (?:morning|evening|night|"
                       r"afternoon)|how are you|how's it going|what'?s up|sup|lol|ok|okay|cool|bye|"
                       r"hallo|bonjour|salut|hola|ciao|olá|hoi|привет|你好|こんにちは)\b")
# A request for information, not small talk ("tell me about ...", "list ...").
_ASK_START = re.compile(r"\s*(?:what|why|how|who|whom|when|where|which|explain|define|describe|tell me|"
                        r"discuss|"
                        r"is|are|can|could|does|do|did|should|would|will|give me|list|name|recommend|"
                        r"suggest|"
                        # An instruction is an ask too ("install jellyfin on my NAS"), not small talk.
                        r"set up|setup|install|configure|enable|disable|show me|help me|find|check|"
                        r"update|upgrade|mount|connect|reset|restore|back up|migrate|move)\b")
# (Drawn out too: "thank youuuu", "thanksss".)
_THANKS_WORDS = (r"thanks+|thank you+|thx+|cheers|danke|merci|gracias|grazie|obrigad[oa]|bedankt|dzięki|"
                 r"спасибо|dhanyavaad|dhanyavad|shukriya|धन्यवाद|शुक्रिया|kiitos|kiitti|tysm|tyvm|"
                 r"(?:a |my )?life ?saver|you're a legend")
_THANKS = re.compile(r"\s*(?:" + _THANKS_WORDS + r"|ty|ta|many thanks|great|perfect|awesome|brilliant|"
                     r"amazing|nice|got it|that worked|it worked|works now|that did it|that fixed it)\b")
# Thanks after a report ("it resilvered in 40 min, everything ONLINE. merci beaucoup !!").
_THANKS_ANYWHERE = re.compile(r"\b(?:" + _THANKS_WORDS + r")\b")
# Words that make thanks an ask ("thanks! now can you also add ...").
_ASK_WORDS = frozenset(("can", "could", "would", "please", "pls", "now", "also", "but", "make", "add",
                        "write", "change", "fix", "show", "explain", "what", "how", "why", "next", "another",
                        "again"))
_NOW = frozenset(("now",))
_WHAT = frozenset(("what",))
# "exactly what I was missing", "just what we needed": a what that asks nothing.
_WHAT_WAS_NEEDED = re.compile(r"\b(?:exactly|just|precisely) what (?:i|we) "
                              r"(?:needed|need|wanted|was|were|meant)\b")
# News shared, not an ask ("I finally beat someone rated 1600 on lichess!!!", "tô morta 🙃"): an
# exclamation, a laugh or an emoji, with no question and none of these words of asking (in the
# languages the scorer reads).
_SHARED = re.compile(r"!|\b(?:lol|lmao|haha\w*|omg|mdr|jaja\w*|kkk+|xd)\b|"
                     r"[\U0001f300-\U0001faff\u2600-\u27bf]")
_SHOW_WORKING = re.compile(r"\bshow (?:your |the |all |me the |full )?workings?\b")
_PROOF_WORDS = re.compile(r"prove|proof")  # in the conversation before a "prove it"
# "Prove" in everyday talk: "you can't prove it", "prove it!", "I can prove that I paid", "no proof".
_PROVE_IT = re.compile(r"\b(?:can'?t|cannot|couldn'?t|never) prove\b|\bprove (?:it|that to me)\b|"
                       # "accuse a 15 year old of cheating without proof", "proof of address"
                       r"\b(?:no|without|any) proof\b|\bproof of (?:purchase|address|identity|income|"
                       r"residence|payment|delivery|age|insurance|postage)\b")
# An extraction asked in the first words: "pull out all the dates", "can you pull out every name".
_PULL_OUT = re.compile(_POLITE + r"pull (?:out )?(?:all|every|each|the)\b")
# A vent that says it wants no answer but an ear.
_VENT = re.compile(r"\b(?:do ?n[o']?t|dont) (?:want|need) (?:any )?(?:advice|solutions|fixes)|"
                   r"\bjust (?:want|need|needed|wanted) to (?:vent|moan|rant|complain|whinge|"
                   r"type (?:it|that|this)|say it)")
_ASKING = re.compile(
    r"\b(?:write|make|explain|fix|help|list|give|show|suggest|recommend|translate|summari[sz]e|check|find|"
    r"compute|calculate|solve|draft|rewrite|convert|create|plan|compare|debug|review|prove|extract|parse|"
    r"add|turn|design|fill|return|read|tell me|need|want|should|please|pls|plz|can you|could you|"
    r"how|why|what|which|who|where|when|"
    r"schreib\w*|mach|erklär\w*|hilf|kannst|könntest|bitte|brauche|soll|wie|warum|welche\w*|"
    r"écris|fais|explique|aide|peux|pourrais|stp|svp|besoin|faut|comment|pourquoi|quel\w*|"
    r"escribe|haz|explica|ayuda|puedes|necesito|quiero|cómo|por qué|qué|cuál|"
    r"escreve|escreva|faz|faça|ajuda|podes|pode|preciso|quero|porque|qual|"
    r"schrijf|maak|leg|kun|graag|wil|hoe|waarom|welke)\b"
    # (A question typed without its mark: "... woke the whole house!! is the driver broken or ...")
    r"|(?:^|[.!]\s*)(?:is|are|was|were|do|does|did|has|have|will|ist|sind|est-ce|es|está|é|zijn)\b")
# Who made, found or proved something, and when: history, whatever the subject.
_HISTORY = re.compile(r"\s*(?:who (?:came up with|invented|discovered|proved|first|found|created|developed|"
                      r"wrote|designed)|when (?:was|were|did)|what year (?:was|were|did))\b")
# Hinglish "what's the difference": "X aur Y mein kya farak hai" (a lookup, and a concept question).
_HINGLISH_DIFFERENCE = r"(?:mein|me) kya (?:farak|fark|farq|antar)"
# "What's the difference between RAM and storage?", "¿me puedes explicar la diferencia entre ser y
# estar?" opening the ask (searched in its first DIFFERENCE_CHARS): a concept to contrast, a lookup.
_DIFFERENCE = re.compile(r"difference between|unterschied zwischen|différence entre|diferencia entre|"
                         r"differenza tra|diferença entre|verschil tussen|الفرق بين|"
                         + _HINGLISH_DIFFERENCE + r"|में क्या (?:अंतर|फर्क|फ़र्क़|फ़र्क)")
# "what's the expiry date in this: ...": one value to read off a short text.
_ONE_VALUE = re.compile(r"\s*(?:what(?:'s| is|s| are)|which is|when(?:'s| is)|where(?:'s| is)) the "
                        r"(?:[a-z0-9-]+ ){0,2}[a-z0-9-]+ "
                        r"(?:and the (?:[a-z0-9-]+ ){0,2}[a-z0-9-]+ )?(?:(?:in|from) (?:this|that)\b|here\b)")
# "Sors-moi juste le montant total de cette facture", "just give me the invoice number from this": one
# value asked for, by "just"/"only" in the languages the scorer reads, not a sum or several fields.
_JUST_ONE = re.compile(r"\b(?:just|only) (?:give me |tell me |need |want )?the (?:[a-z-]+ ){0,2}[a-z-]+ "
                       r"(?:from|in|of|on) (?:this|that|the)\b|\bjuste (?:le |la |l')|\bnur (?:den|die|das) |"
                       r"\bsolo (?:el|la|il|lo) |\bsó (?:o|a) |\balleen (?:de|het) |"
                       # "sácame el RFC de aquí", "dame la CURP de esto"
                       r"\b(?:s[aá]came|dame|p[aá]same) (?:el|la) [\w-]+(?: [\w-]+)? "
                       r"de (?:aqu[ií]|esto|este|esta)\b")
_CODE_CONCEPT = re.compile(r"\s*(?:(?:can|could) you (?:please )?(?=explain|describe))?"
                           r"(?:what (?:is|are|does)|what's|explain|define|describe|why (?:is|do|does)|"
                           r"how does|difference between|is|are|does|do|"
                           # "mutex vs spinlock, when would i use which?"
                           r"[\w.+#-]+ (?:vs\.?|versus) [\w.+#-]+(?: in [\w.+#-]+)?"
                           r"(?=[,?:]| when| which| for)|"
                           # the same openings in French, German, Spanish, Italian, Portuguese and Dutch
                           r"explique|expliquez|erklär\w*|explica|explícame|spiega\w*|leg uit|"
                           r"comment fonctionne|wie funktioniert|cómo funciona|come funziona|como funciona|"
                           r"hoe werkt|c'est quoi|qu'est-ce que|was ist|qué es|cos'è|o que é|wat is|"
                           # Hinglish: "IFSC code aur MICR code mein kya farak hai", "docker kya hota hai"
                           r"[\w.+#-]+(?: [\w.+#-]+){0,2} (?:aur [\w.+#-]+(?: [\w.+#-]+){0,2} "
                           + _HINGLISH_DIFFERENCE + r"|kya (?:hai|hota hai|hoti hai|hote hai)))\b")
# Words: the UTF-8 bytes with ASCII punctuation made spaces (bytes >= 128, the
# parts of non-ASCII letters, kept), then split: C-level passes only.
_NON_WORD = bytes(c if c >= 128 or chr(c).isalnum() or chr(c) in "_-'#" else 32 for c in range(256))
# Inverted marks, guillemets, curly quotes, dashes, ellipsis, bullets (one C-level pass; a
# str.translate table cost 100 us on 2,000 characters of French).
_UNICODE_PUNCT = re.compile("[\u00bf\u00a1\u00ab\u00bb\u201c\u201d\u201e\u201f\u2039\u203a\u2014\u2013\u2026"
                            "\u00b7\u2022]")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_THAI_CHAR = re.compile(r"[\u0e00-\u0e7f]")
_HANGUL_SYLLABLES = "\uac00-\ud7a3"
_HANGUL = re.compile(f"[{_HANGUL_SYLLABLES}]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# The scripts that name their language in reason (CJK apart: the whole text is searched for it), each
# block up to the code point in _SCRIPT_NAMES; the first such letter in the window names the language.
_SCRIPT = re.compile(r"[\u0370-\u04ff\u0530-\u05ff\u0900-\u0fff\u1000-\u10ff\u1200-\u137f\u1780-\u17ff"
                     f"{_HANGUL_SYLLABLES}]")
_SCRIPT_NAMES = ((0x0400, "el"), (0x0500, "cyrillic"), (0x0590, "hy"), (0x0600, "he"), (0x0980, "hi"),
                 (0x0a00, "bn"), (0x0a80, "pa"), (0x0b00, "gu"), (0x0b80, "or"), (0x0c00, "ta"),
                 (0x0c80, "te"), (0x0d00, "kn"), (0x0d80, "ml"), (0x0e00, "si"), (0x0e80, "th"),
                 (0x0f00, "lo"), (0x1000, "bo"), (0x10a0, "my"), (0x1100, "ka"), (0x1380, "am"),
                 (0x1800, "km"), (0xd7b0, "ko"))
# Of those, the scripts of languages small models write less well than the big ones: Armenian, the
# Indic scripts after Devanagari (Bengali to Sinhala), Lao, Tibetan, Myanmar, Georgian, Ethiopic, Khmer.
_RARE_SCRIPT = re.compile(r"[\u0530-\u058f\u0980-\u0dff\u0e80-\u0fff\u1000-\u10ff\u1200-\u137f\u1780-\u17ff]")
# Cheap language guess from stop words: enough to say "I cannot read this".
_STOPWORDS = {
    "en": frozenset("the and is are what how you this that with for of to".split()),
    "de": frozenset("der die das und ist nicht ich wie was mit für ein eine".split()),
    "fr": frozenset("le la les et est une des pour que qui avec pas je".split()),
    "es": frozenset("el la los las y es una para que con por como qué".split()),
    "it": frozenset("il lo la gli e è una per che con non come".split()),
    "pt": frozenset("o a os as e é um uma para que com não como".split()),
    "nl": frozenset("de het een en is niet ik wat hoe met voor van".split()),
    "hi": frozenset("hai hain ka ki ke mein ko se aur kya nahi bhi toh kaise karo kar".split()),
    "fi": frozenset("ja on ei se että mitä miten mä sä onko kun niin jos tää toi mulle mun".split()),
    "hu": frozenset("az és hogy nem egy meg kell vagy ezt azt mert nekem hogyan miért mennyi".split()),
    "ro": frozenset("și să pentru este sunt dacă daca pe sau cu cum ce".split()),
    # Greeklish, Greek in Latin letters (Greek in its script is told by the script)
    "el": frozenset("kai einai tha pou tou tis gia mou".split()),
    "sv": frozenset("och är det att som inte jag hur vad för med ett på kan vi har".split()),
    # Norwegian and Danish
    "no": frozenset("og er det som ikke jeg hvordan hva hvad hvorfor med på kan vi har".split()),
    "cs": frozenset("že jsem jsou není prosím taky když nebo protože".split()),
    # Vietnamese, with and without its diacritics (not "la", "va", "co", "mot": other languages' words)
    "vi": frozenset("của và không được những với này các một cua khong duoc nhung minh".split()),
    "id": frozenset("yang yg dan dengan ini itu gue gw aku kamu dong sih nggak gak udah aja juga bisa tolong "
                    "gimana gmn".split()),
}
# Common English words beyond the stop words, looked at only when no stop word was found.
_MORE_ENGLISH = frozenset("i my me it its it's when why does do did can be have has from your our was were "
                          "not on in at an".split())
_LANGS = tuple(_STOPWORDS)
_STOP_LANGS: dict[str, tuple[int, ...]] = {}  # stop word -> the indexes in _LANGS of its languages
for _index, _stops in enumerate(_STOPWORDS.values()):
    for _word in _stops:
        _STOP_LANGS[_word] = (*_STOP_LANGS.get(_word, ()), _index)
_STOP_KEYS = frozenset(_STOP_LANGS)
# NOTE: a signal that would make a cheap kind of ask look hard (code words in a
# poem about Python) is outweighed by the kind's own words; the weights below
# were set by reasoning about such pairs, not fitted to any labelled set.
_KIND_TIER = {"casual_chat": "fast", "creative_writing": "fast", "question_answer": "fast",
              "document_summary": "fast", "deep_analysis": "balanced", "code": "balanced",
              "math": "balanced", "reasoning": "balanced", "extraction": "balanced"}
_TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
# The kinds the scorer weighs, higher tiers first: on equal scores the earlier wins.
_KIND_ORDER = ("code", "math", "reasoning", "extraction", "deep_analysis", "document_summary",
               "creative_writing", "casual_chat")
# Negations that rule options out in an assignment puzzle (counted only when one is suspected).
_NEGATIONS = ("n't", " not ", " no ", " pas ", "nicht", "kein", "不", "ない")


def scan_text(text: str) -> str:
    """The part of a prompt the scorer reads: all of it, or its head and tail."""
    if len(text) <= SCAN_CHARS:
        return text
    return text[:_HEAD_CHARS] + "\n" + text[-_TAIL_CHARS:]


def _words(low: str) -> list[str]:
    if not low.isascii():
        # Punctuation outside ASCII (an inverted question mark, guillemets, curly quotes, a curly
        # apostrophe in "I'm") would stick to its word: "cuánto" must be found in "¿cuánto".
        low = _UNICODE_PUNCT.sub(" ", low.replace("\u2019", "'").replace("\u2018", "'"))
    # surrogatepass: a lone surrogate from a JSON body must not break routing.
    return low.encode("utf-8", "surrogatepass").translate(_NON_WORD).decode("utf-8", "surrogatepass").split()


def words_of(low: str) -> list[str]:
    """The words of lower-cased text, split as the scorer splits them (the learned prior reads them so)."""
    return _words(low)


def language_of(text: str) -> str:
    """A cheap guess of the prompt's language (for ``--explain``)."""
    low = scan_text(text).lower()
    return _language(_words(low), low)


def _language(words: list[str], low: str) -> str:
    if not low.isascii():
        if _CJK_CHAR.search(low):
            return "cjk"
        script = _SCRIPT.search(low, 0, SCRIPT_WINDOW)
        if script is not None:
            point = ord(script.group())
            return next(name for end, name in _SCRIPT_NAMES if point < end)
    # The distinct stop words among the first 60 words, tallied by language: one set
    # lookup a word instead of a set built from the sample and seven intersections.
    tally = [0] * len(_LANGS)
    for word in _STOP_KEYS.intersection(words[:60]):
        for index in _STOP_LANGS[word]:
            tally[index] += 1
    # The first language (in _STOPWORDS order) with the most; one shared stop word ("a", "e")
    # says nothing.
    most = max(tally)
    best = _LANGS[tally.index(most)] if most > 1 else "other"
    if best == "other" and low.isascii() and (
            most or len(words) < FOREIGN_ASCII_WORDS or not _MORE_ENGLISH.isdisjoint(words[:60])):
        # Short ASCII text with no stop word, or one English one, or other common English words: most likely
        # English. (Twenty words of Swahili, "eTIMS ni nini hasa na inabadilisha nini ...", have none.)
        return "en"
    return best


_RARE_ADVERBS = frozenset(RARE_LANGUAGE_ADVERBS.split())
# "Don't translate word by word", "not word for word": a text to carry over in spirit, not in its words.
_NOT_WORD_FOR_WORD = ("word by word", "word for word", "mot à mot", "mot pour mot", "palabra por palabra",
                      "wort für wort", "kata per kata", "parola per parola", "palavra por palavra")
_NO_SUMMARY = ("n't summar", "not summar", "no summary", "not a summary", "without summar")
# Ga, of Accra, named only after "in" or "into": alone "ga" is Indonesian for "not". (Found by its
# literal, the word before checked on a window: "\b(?:in|into) ga\b" cost 57 us on a 2,000-character
# text full of "game" and "garage".)
_IN_GA = _Phrases(after=((r" ga\b", r"(?:^|(?<=\s))(?:in|into)\Z", 4),))
# Igbo's and Yoruba's dotted letters (ẹ ị ọ ụ ṣ) and Kikuyu's (and Guarani's) tilded vowels (ĩ ũ).
_RARE_LETTER = re.compile("[\u1eb9\u1ecb\u1ecd\u1ee5\u1e63\u0129\u0169]")


def _in_rare_language(low: str, hits: frozenset[str]) -> bool:
    """A text asked in a language small models write less well: "in Irish", "as Gaeilge", a
    conversation set "mostly in Kikuyu", "¿cómo se dice en náhuatl?"."""
    return bool(hits & _RARE_ADVERBS) or any(
        f"in {word}" in low or f"as {word}" in low or f"en {word}" in low or f"em {word}" in low or
        f"mu {word}" in low  # (Luganda's and Kinyarwanda's "in": "yogera mu Luganda", speak in Luganda)
        for word in hits if "rare_lang" in _VOCAB[word]) or _IN_GA.search(low) is not None


def _competition_count(ask: str) -> bool:
    """A competition's counting problem: a condition on positive integers, pairs of integers or integer
    solutions, ordered pairs, or ways counted under a restriction."""
    if "integer" in ask:
        for match in _INTEGER_WORD.finditer(ask):
            start = match.start()
            if _INTEGER_BEFORE.search(ask, max(0, start - 14), start) is not None or (
                    match.group() == "integers" and
                    _INTEGERS_BEFORE.search(ask, max(0, start - 12), start) is not None) or \
                    _INTEGER_PAIRS.match(ask, start) is not None:
                return True
    if (not ask.isascii() or any(stem in ask for stem in _INTEGER_STEMS)) and \
            _INTEGERS_ELSEWHERE.search(ask) is not None:
        return True
    if "ordered" in ask and any(_ORDERED_WORD.match(ask, match.start()) is not None
                                for match in _ORDERED_TUPLES.finditer(ask)):
        return True
    return any(word in ask for word in _WAYS_WORDS) and _COMPETITION_WAYS.search(ask) is not None


def _linear_in_x(low: str) -> bool:
    """The text's one equation is linear in x alone: "3x + 7 = 22", "3(x - 2) - 2(x + 1) = 5"."""
    found = _EQUATION.search(low)
    if found is None:
        return False
    equation = found.group()
    return "x" in equation and not any(mark in equation for mark in _NONLINEAR_MARKS) and \
        not any(mark in low for mark in _POWER_MARKS)


def _asks_to_show(ask: str) -> bool:
    """"Show that ..." asked, not stated: no subject just before it ("our records show that")."""
    for match in _SHOW_THAT.finditer(ask):
        before = ask[max(0, match.start() - 16):match.start()].split()
        if not before or before[-1] not in _STATEMENT_SUBJECTS:
            return True
    return False


def _rare_text(counts: dict[str, int], low: str) -> bool:
    """The text itself is in a language small models read and write less well, with no name for it:
    Irish or Scottish Gaelic, Lingala or Wolof by three of their function words ("agus", "tha", "aig";
    "ngai", "nazali", "mpo"; "dama", "dañu", "ngir"), Igbo or Yoruba by their dotted vowels, Kikuyu by
    its tilded ones ("Kĩara kĩmwe gĩtiũragaga ndaha"). (Vietnamese, which has both, also has "đ", "ư"
    or "ơ".)"""
    if counts.get("rare_words", 0) >= RARE_TEXT_WORDS:
        return True
    return not low.isascii() and len(_RARE_LETTER.findall(low)) >= RARE_TEXT_WORDS and not any(
        letter in low for letter in "đươ")


def _one_value(low: str) -> bool:
    """One value (or two) asked of a short text: "what's the expiry date in this", "juste le SIRET"."""
    return _ONE_VALUE.match(low) is not None or _JUST_ONE.search(low, 0, JUST_ONE_CHARS) is not None


def _study_plan(ask: str) -> bool:
    """A plan of the asker's own weeks asked, in the ask's head or tail (where an ask says what it wants):
    "8 week plan to prep for ...", "exam study schedule", "make me a realistic plan", "a week by week plan".
    Looked for only around "plan", "schedule" or "timetable", with anchored matches (a pattern scanning the
    whole ask cost 25 us a 1,000 characters)."""
    windows = ((0, ASK_END_CHARS),) if len(ask) <= ASK_END_CHARS else (
        (0, ASK_END_CHARS), (max(ASK_END_CHARS, len(ask) - ASK_END_CHARS), len(ask)))
    for start, end in windows:
        for stem in _PLAN_STEMS:
            at = ask.find(stem, start, end)
            if at < 0:
                continue
            before = ask[max(0, at - PLAN_WINDOW):at]
            before = before[max(before.rfind(mark) for mark in ".?!\n") + 1:]  # this sentence's words
            if before.endswith(_PLAN_JUST_BEFORE) or _PLAN_TOPICS.search(before) is not None or \
                    _PLAN_AFTER.match(ask, at) is not None:
                return True
    return False


def _only_from(signal: str, plain: frozenset[str], hits: frozenset[str], counts: dict[str, int]) -> bool:
    """``signal`` fired, and every word that fed it is one of ``plain``: words with an everyday sense
    (a TV series, an architecture studio, a dynamic IP) that name nothing hard on their own."""
    return bool(counts.get(signal)) and counts[signal] == sum(signal in _VOCAB[word] for word in hits & plain)


def score(text: str, *, tokens: int, task_type: str | None = None, context: str = "",
          has_tools: bool = False, json_response: bool = False, detail: bool = False,
          personas: bool = True) -> Score:
    """Score ``text`` (the routed ask); ``task_type`` when the client named one.

    ``context`` is the system prompt and earlier turns: a short follow-up
    ("and in Rust?") inherits a hard kind from it. ``tokens`` is the size the
    model must read (the whole conversation). ``detail`` fills ``signals``
    and ``language`` (for ``--explain``; a request has no use for them).
    ``personas=False`` reads "You are a ..." as a set-up, not a role to play:
    the context is scored so, as a system prompt opens that way.
    """
    low = scan_text(text).lower()
    # Words (the costliest step: one string object each) and the phrases of an ask ("how many",
    # "step by step", "as JSON") come from the head and tail only: that is where the ask is;
    # code and maths in the middle show by their shapes, which are searched in all of ``low``.
    ask = low if len(low) <= WORD_SCAN_CHARS else \
        low[:WORD_SCAN_CHARS - WORD_TAIL_CHARS] + " " + low[-WORD_TAIL_CHARS:]
    words = _words(ask)
    counts: dict[str, int] = {}
    hits = _VOCAB_KEYS.intersection(words)
    if len(words) <= HYPHEN_SPLIT_WORDS and "-" in low:
        # Compounds ("Python-Funktion", "TLS-Handshake"): their parts are words too.
        hits = hits | _VOCAB_KEYS.intersection(_words(low.replace("-", " ")))
    for word in hits:
        for signal in _VOCAB[word]:
            counts[signal] = counts.get(signal, 0) + 1
    if counts.get("summary") and any(phrase in low for phrase in _NO_SUMMARY):
        # "Translate it to English exactly, don't summarise": a summary refused is not the ask.
        counts["summary"] -= 1
    if _IN_GA.search(ask) is not None:
        counts["rare_lang"] = counts.get("rare_lang", 0) + 1  # "how do I say thank you in Ga?"
    # A zh/ja prompt shows its script early; a bounded window keeps the class scan cheap.
    cjk = not low.isascii() and _CJK_CHAR.search(low, 0, SCRIPT_WINDOW) is not None
    hangul = not cjk and not low.isascii() and _HANGUL.search(low, 0, SCRIPT_WINDOW) is not None
    if cjk or hangul or (not low.isascii() and _THAI_CHAR.search(low, 0, SCRIPT_WINDOW) is not None):
        for needle in frozenset(_CJK_NEEDLE.findall(low, 0, CJK_SCAN_CHARS)):
            for signal in _CJK_SIGNALS[needle]:
                counts[signal] = counts.get(signal, 0) + 1
    n_words = len(words) if not cjk else len(low) // 2

    shape = _code_shape(low, hits & _SHAPE_WORDS if counts.get("g_shape") else _NO_WORDS,
                        hits & _WORD_GUARDED)
    # Plainly code (three shapes or more): the maths, puzzle and format patterns cannot
    # change the kind (code outranks them and its tier comes from words and length), so
    # they are skipped; on a 2,000-character code prompt they were a third of the cost.
    prose = shape < SHAPES_ENOUGH
    has_digit = prose and _has_digit(low)
    # Counts are capped: only "none, one, a few" matters, and a long list of numbers is not.
    # One masking of the text serves the arithmetic shapes and the count of numbers (digit runs).
    masked = low.encode("utf-8", "surrogatepass").translate(_EXPR_TABLE) if has_digit else b""
    expr = (_masked_arithmetic(masked) if has_digit else 0) + (_maths_marks(ask) if prose else 0)
    # Only "none, one, a few" decides (no threshold past four): a request stops counting
    # at NUMBERS_ENOUGH; ``detail`` (--explain) shows the exact count.
    # Digits right after a letter name things, not quantities: q4_k_m, x86, h264, gpt4, v2.
    named = masked.count(b"a9") if has_digit else 0
    # So do a list's item numbers ("\n12. The Montréal client uses Databricks."): they count clues.
    listed = len(_LIST_NUMBER.findall(low)) if has_digit and "\n" in low else 0
    # And a date is no quantity ("dates are like 03/09/2024": a format, not three figures to work with).
    slashed = b"/" in masked
    dated = len(_DATE.findall(masked)) if has_digit and (slashed or b"99-99" in masked) else 0
    not_quantities = named + listed + 3 * dated
    numbers = max(0, _matches(_RUN_END, masked, None if detail else NUMBERS_ENOUGH + not_quantities)
                  - not_quantities) if has_digit else 0
    spelled = counts.get("numword", 0)
    if spelled:
        numbers += spelled
    # Where figures count as steps (one-step arithmetic), a fraction in digits is one: "3/4 + 2/3" adds two.
    fractions = max(0, len(_FRACTION.findall(masked)) - 2 * dated) if has_digit and slashed else 0
    # Hard words in their everyday sense, with nothing beside them that makes them hard: no figure or
    # formula for maths, no code or technical subject for depth, no second algorithm word, bound or
    # phrase for an algorithm.
    if prose and not numbers and not expr and not _EVERYDAY_MATHS.isdisjoint(hits):
        for signal in _EVERYDAY_SIGNALS:
            if _only_from(signal, _EVERYDAY_MATHS, hits, counts):
                counts[signal] = 0
    if prose and not shape and counts.get("code") == 1 and not counts.get("tech") and \
            _only_from("code", _EVERYDAY_CODE, hits, counts):
        # "an oven method", "english class", "the library", "airport terminal": one code word in its
        # everyday sense, with no code, no other code word and no technical subject beside it.
        counts["code"] = 0
    if prose and not shape and not counts.get("code") and not counts.get("tech") and \
            _only_from("depth", _EVERYDAY_DEPTH, hits, counts):
        counts["depth"] = 0
    if not _FILE_FORMATS.isdisjoint(hits):
        # "reads donors.csv", "config.json": a file's extension names the file, not a format to
        # extract into (nor a field list to fill).
        for word in _FILE_FORMATS.intersection(hits):
            if low.count(word) == low.count("." + word):
                for signal in _VOCAB[word]:
                    counts[signal] -= 1
    if counts.get("code") and tokens < LOOKUP_TOKENS and "\n" not in low and \
            _only_from("extraction", _FILE_FORMATS, hits, counts):
        # "pandas read csv with semicolon separator": a library's way with a format, a how-to, not fields
        # to pull out of a text.
        counts["extraction"] = 0
    if counts.get("code", 0) >= 2 and counts.get("code_action") and \
            _only_from("extraction", _PROGRAM_DATA, hits, counts):
        # "Write a python script that reads the CSV export", "save it as JSON with a version field": the
        # format and the fields are the program's data, not fields to pull out of a text.
        counts["extraction"] = 0
    # A stated complexity bound ("in O(log n)") is a requirement the solution must meet, not a topic.
    big_o = "o(" in ask and ("o(n" in ask or "o(log" in ask or "o(1" in ask)
    # (In an ask under 300 tokens: a competition's problem is short, and "ways" is an everyday word.)
    if tokens < LONG_SOURCE_TOKENS and (
            (counts.get("g_count") and _competition_count(ask)) or
            (counts.get("g_funcs") and "f(" in ask and _FUNCTIONAL_EQUATION.search(ask) is not None)):
        counts["math_adv"] = counts.get("math_adv", 0) + 2  # (two points: a competition's problem)
        counts["math"] = counts.get("math", 0) + 1
    if not big_o and counts.get("g_bound") and ("1e" in ask or "10^" in ask or "10**" in ask) and \
            _INPUT_BOUND.search(ask) is not None:
        # A contest's input bound ("1 <= n <= 1e5", "n ≤ 2·10^5") asks for the complexity that meets it.
        big_o = True
    # (Without code, "graphs" are charts: "heap graphs show heap never above 800mb".)
    ambiguous = _AMBIGUOUS_ALGO if shape else _AMBIGUOUS_PROSE_ALGO
    if not big_o and _only_from("algo", ambiguous, hits, counts) and \
            not any(phrase in ask for phrase in _ALGO_PHRASES):
        counts["algo"] = 0
    if counts.get("prove") == 1 and ("prove" in hits or "proof" in hits) and not (
            expr or shape or counts.get("math") or counts.get("math_adv") or counts.get("code")) and \
            _PROVE_IT.search(ask) is not None and not (
            context and _PROOF_WORDS.search(context.lower()) is not None):
        # "So you'd bet on it? Even though you can't prove it?": everyday talk (after a proof, "can you
        # prove it for any polygon?" continues it).
        counts["prove"] = 0
    if _only_from("puzzle", _TRUTH_WORDS, hits, counts):
        counts["puzzle"] = 0  # "voglio che tu mi dica la verità": the truth without a liar is no puzzle
    if counts.get("puzzle", 0) < 2 and ask.count(" says ") >= 3 and (
            "truth" in ask or " lying" in ask or " lie" in ask):
        # "A says B is lying. B says C is lying. Who is telling the truth?": statements about each other's
        # truth, a liars' puzzle without its words ("lying" and "truth" alone are everyday talk, and so is
        # "my son says ..., his sister says he is lying").
        counts["puzzle"] = 2
    problem_words = prose and (numbers or spelled) and counts.get("g_problem")
    # ("quantos habitantes tem Recife?": a how-many with no figure to work from is a fact to look up;
    # "Marie a douze billes, elle en donne cinq, combien ...?" has its figures spelled out.)
    word_problem = 1 if (counts.get("howmany") and (has_digit or spelled or not _NUMBER_WORDS.isdisjoint(
        words))) or (problem_words and (
        any(w in hits and r.search(ask) for w, r in _WORD_PROBLEM_PHRASES)
        or any(w in hits and r.search(ask) for w, r in zip(_STORY_WORDS, _STORY, strict=True)))) else 0
    if not word_problem and prose and counts.get("unit") and "how" in hits and (
            "how many" in ask or "how much" in ask or (numbers >= 2 and "how long" in ask)) and not (
            numbers == 0 and _CONVERSION.search(ask)):
        # (How long something should take, with no figures to work from, is advice, not a sum; how
        # many grams are in an ounce is a conversion to look up.)
        word_problem = 1
    if word_problem and numbers <= 1 and "should" in ask and not counts.get("howmany") and \
            _ADVICE_AMOUNT.search(ask) is not None:
        # "How long should a standup for 4 people take?": a norm to advise on, with no data to work from.
        word_problem = 0
    if word_problem and numbers <= 1 and not expr and not spelled and tokens < FACT_COUNT_TOKENS and \
            not context and not (counts.get("chance") or counts.get("device") or counts.get("code") or
                                 counts.get("stakes") or counts.get("g_self") or counts.get("howmany") or
                                 (numbers and counts.get("unit"))) and \
            not any(word in ask for word in _COUNTING_WORDS):
        # "how many bank holidays are there in england in 2026", "how many weeks of maternity leave do
        # mums get in singapore?": a quantity to look up, with at most one figure (a year, a claim to
        # check) and nothing to work from. Not what to count under a rule ("how many 5 digit numbers
        # have digits in strictly increasing order"), a clock puzzle or a figure to convert; not a
        # how-many word of another language, which comes with a figure ("quantos minutos há em 3
        # horas?"); not in a conversation, where the figures may be in the turns before.
        word_problem = 0
    if word_problem and numbers - fractions == 2 and tokens < PERCENT_TOKENS and ("%" in low or not (
            problem_words or counts.get("g_self"))):
        # "15% de 340€ ça fait combien ?", "how much is 15% of 340€?", "quanto é 2 elevado a 10?": a
        # percentage of one figure, or two figures with no story around them, asked briefly, is one-step
        # arithmetic in any language, as "what's 18% of 2,450" is. ("I have 3 apples ..." is a story;
        # "quanto fa 3/4 + 2/3?" adds two figures.)
        word_problem = 0
    if prose and numbers >= 2 and counts.get("g_unknowns") and _SEVERAL_UNKNOWNS.search(ask):
        expr = max(expr, 2)  # unknowns to solve for, as "2x + 3 = 11" is: never one-step arithmetic
    # (In a shorter ask only: three substring scans cost 4 us on a 2,000-character prompt. Guarded by
    # "(n-" or "_{n": "(n" alone is in every "(note" and "(not".)
    if prose and tokens < LONG_SOURCE_TOKENS and ("(n-" in low or "(n -" in low or "_{n" in low) and \
            _RECURRENCE.search(low) is not None:
        expr = max(expr, 2)  # a recurrence, "a(n) = a(n-2) + a(n-3)": a sequence to reason about
    if cjk and not word_problem and counts.get("math") and numbers >= 2 and ("\uff1f" in low or "?" in low):
        word_problem = 1  # a zh/ja question with quantities and a maths word ("几小时", "いくら")
    units = 1 if numbers >= 2 and (counts.get("unit") or any(c in low for c in _CURRENCY)) else 0
    if units and numbers <= 3 and not (expr or word_problem or counts.get("math")) and "?" not in low and \
            _QUANTITY_ASKED.search(ask) is None:
        # "A 45-minute agenda for 4 people", "a plumber 2 hours late": a few figures with their units
        # and nothing asked of them are a plan's or a scene's details, not a sum to work out.
        units = 0
    phrases = sum(1 for w in _REASONING_WORDS.intersection(hits) for r in _REASONING_BY_WORD[w]
                  if r.search(ask)) if prose and counts.get(
        "g_reason") else 0
    if prose and counts.get("g_valid") and _ARGUMENT.search(ask):
        counts["puzzle"] = counts.get("puzzle", 0) + 1
    if prose and "show" in hits and _asks_to_show(ask):
        counts["prove"] = counts.get("prove", 0) + 1
    if prose and counts.get("g_proof") and _PROOF_PHRASE.search(ask):
        counts["prove"] = counts.get("prove", 0) + 1
    if prose and counts.get("g_balance") and ("balance scale" in low or "pan balance" in low):
        # The weighing puzzles: "a balance scale, three weighings, one coin heavier or lighter": a
        # puzzle, and a scheme of weighings to satisfy, as "weighings" names one.
        counts["puzzle"] = counts.get("puzzle", 0) + 1
        counts["csp"] = counts.get("csp", 0) + 1
    if prose and counts.get("g_kin", 0) >= 2 and ("related" in ask or "relation" in ask) and \
            _KIN_CHAIN.search(ask) is not None:
        # "She is the daughter of the only son of my grandfather's wife. How is she related to me?"
        counts["puzzle"] = counts.get("puzzle", 0) + 1
    if prose and counts.get("g_working") and _SHOW_WORKING.search(ask) is not None:
        counts["math"] = counts.get("math", 0) + 1  # "show working", as a maths teacher asks it
    if prose and counts.get("g_int") and "find all" in ask and "such that" in ask and any(
            phrase in ask for phrase in _NUMBER_THEORY):
        # "Find all pairs of positive integers (a, b) such that ...": a competition's number theory.
        counts["math_adv"] = counts.get("math_adv", 0) + 1
    if prose and counts.get("g_are") and counts.get("g_quant") and any(r.search(ask) for r in _SYLLOGISM):
        phrases += 2  # two quantified clauses are a syllogism on their own
    if_then = 1 if prose and counts.get("g_if") and "?" in ask and _IF_THEN.search(
        ask, 0, ask.rfind("?")) else 0
    # "As JSON" is an output format to extract into; "write an automation in YAML" with nothing to
    # extract from is a config to write.
    to_write = bool(counts.get("g_write")) or "create" in hits or "generate" in hits
    if prose and counts.get("g_reply") and _REPLY_TO.search(ask):
        # "Help me reply to this google review": a reply to write, as "auf diese Mail antworten" is.
        counts["creative"] = counts.get("creative", 0) + 1
        to_write = True
    if counts.get("extraction") == 1 and not counts.get("format") and not _FIELD_WORDS.isdisjoint(hits):
        # "Bees in 12 fields", "my field of study": alone, without an output format, no fields to pull out.
        counts["extraction"] = 0
    # ("Pull these out as JSON: <an e-mail that says 'do not reply'>": the opening asks for the format.)
    fmt = 1 if prose and counts.get("g_format") and _format_asked(ask) and (
        counts.get("extraction") or not to_write or _TO_FORMAT.match(ask) is not None) else 0
    roleplay: float = 1 if prose and ((counts.get("g_role") and _ROLEPLAY.in_text(ask, hits)) or (
        counts.get("g_write") and _ROLEPLAY_WRITE.search(ask))) else 0
    if prose and not roleplay and personas and counts.get("g_persona") and (
            _PERSONA.match(ask) is not None or _PERSONA_NAME.match(text) is not None
            or _PERSONA_PAIR.search(ask) is not None):
        # A persona opening is role-play; but "be my tutor: a train leaves at 3pm at 60 mph ..." is a
        # problem in costume: with quantities or a sum stated it weighs half, and the maths wins the tie.
        roleplay = 0.5 if expr or word_problem or units else 1
    if "what" in hits and _in_ask_ends(_WHAT_SAYS_RE, ask) and (
            cjk or _CYRILLIC.search(low) is not None or _INTO_LANGUAGE.search(ask) is not None
            or _language(words, low) not in ("en", "other")):
        # ("What does this mean in English: '<Polish>'": the language to read it in says so too.)
        # "My grandma sent this, what does it say? 'Дорогая Катюша, ...'", or a supplier's email in
        # Spanish below an English "what does this say?": a translation ask.
        counts["rewrite"] = counts.get("rewrite", 0) + 1
    rewrite_opening = False  # "make this sound more academic: <a paragraph>" opens the ask
    sound = _SOUND_PHRASES.search(ask) if counts.get("g_sound") else None
    if sound is not None:
        counts["rewrite"] = counts.get("rewrite", 0) + 1  # "make this sound more academic"
        rewrite_opening = sound.start() < TONE_CHARS
    if counts.get("rewrite") and _REWRITE_ASK.match(ask) is not None:
        rewrite_opening = True
    if prose and counts.get("g_make"):
        made = _MAKE_IT.search(ask)
        if made is not None and (not counts.get("code") or _TONE.search(ask, made.start(), made.end() + 20)):
            counts["rewrite"] = counts.get("rewrite", 0) + 1
            rewrite_opening = rewrite_opening or made.start() < TONE_CHARS
    if "summary" in hits and _SUMMARY_PASTED.search(ask):
        counts["summary"] = max(0, counts.get("summary", 0) - 1)  # "smartctl summary below": material
    if not shape and counts.get("g_write") and _WRITE_TEXT.search(ask) is not None:
        # "scrivimi una descrizione breve x booking della camera", "écris-moi un petit mot pour ...": a text
        # to write, as "write me a short description" is in English (_ROLEPLAY_WRITE).
        counts["creative"] = counts.get("creative", 0) + 1
    if not shape and counts.get("creative") and _NEED_TEXT.match(ask) is not None:
        # "need a 3-min farewell speech for Mrs Lim ... she started the maths olympiad club": the opening
        # names the text to write; the details after it are its material.
        counts["creative"] = counts.get("creative", 0) + 2
    if not shape and counts.get("g_bio") and _BIO.search(ask) is not None:
        # "A short bio for the website" ("BIO BANANEN" on a receipt is no bio).
        counts["creative"] = counts.get("creative", 0) + 1
    if not shape and counts.get("g_name") and _NAMING.search(ask) is not None:
        counts["creative"] = counts.get("creative", 0) + 1  # names to invent: "a funny name for the robot"
    # "Turn this into revision bullet points: <a textbook page on Dijkstra>": notes of the text, its
    # algorithm the material.
    to_notes = prose and bool(counts.get("g_notes")) and _TO_NOTES.match(ask) is not None
    if to_notes:
        counts["summary"] = counts.get("summary", 0) + 2
    if counts.get("g_tl") and ("tl;dr" in ask or "tl,dr" in ask):
        counts["summary"] = counts.get("summary", 0) + 1
        # "tl;dr this for tom: <a post-mortem>" opens with the ask; the figures below are its material.
        to_notes = to_notes or ask.lstrip().startswith(("tl;dr", "tl,dr"))
    if "resume " in ask and _RESUME_ES.search(ask):
        counts["summary"] = counts.get("summary", 0) + 1  # "resume este correo" (Spanish: summarise)
    if ask.lstrip().startswith(("tiivistä ", "tiivistä:", "tiivistäisitkö")):
        # Finnish "condense" opening the ask ("tiivistä yhteen lauseeseen: ..."); elsewhere "tiivistä" is
        # as often "dense" ("savimaa on tiivistä": the clay is compacted).
        counts["summary"] = counts.get("summary", 0) + 1
    if "sum" in hits and _SUM_UP.search(ask):
        # "Sum this up in three bullets": a summary, not an addition.
        counts["summary"] = counts.get("summary", 0) + 1
        counts["math"] = max(0, counts.get("math", 0) - 1)
    if counts.get("g_points") and ("key points" in ask or "main points" in ask):
        counts["summary"] = counts.get("summary", 0) + 1
    if counts.get("g_takeaway") and any(p in ask for p in ("the takeaway", "key takeaway", "main takeaway")):
        # "Forum thread on my mount, what's the takeaway?" (not "takeaway cups" nor a Friday takeaway).
        counts["summary"] = counts.get("summary", 0) + 1
    # ("What do I actually need to do from this: <a school newsletter>", said in the ask's first words.)
    digest = (bool(counts.get("g_digest")) and any(phrase in ask for phrase in _DIGEST_PHRASES)) or \
        ask.find(" to do from", 0, ASK_END_CHARS) >= 0 or (
            bool(counts.get("g_did")) and any(phrase in ask for phrase in _DID_DECIDE))
    if digest:
        # What a thread or a meeting decided and left open: a digest of the text, whatever it is about.
        counts["summary"] = counts.get("summary", 0) + 2
    # "This abstract in plain English for my mum": a pasted text made simple. Its own words
    # ("we demonstrate", "derive") are the material, not a proof to write.
    # (A question besides, "if I cancel after a month, do I get money back?", applies the text: not this.)
    # (Not "write me a revisions clause ... in plain English": a new text to write, not a text put plainly.)
    # (Nor "translate into Tagalog for Mama and explain 'GIS' in simple words": a translation, with a gloss.)
    plain = tokens >= PARAGRAPH_TOKENS and bool(counts.get("g_plain")) and _plain_ask(ask, hits) and not (
        counts.get("g_write") and _WRITE_NEW.search(ask, 0, ASK_END_CHARS) is not None) and not (
        counts.get("rewrite") and any(ask.find(stem, 0, ASK_END_CHARS) >= 0 for stem in _TRANSLATE_STEMS) and
        _INTO_LANGUAGE.search(ask, 0, ASK_END_CHARS) is not None)
    # "Explain in plain English what this clause means for us": the text put plainly and judged for the
    # asker, a summary with a judgement (not its figures' sums), though no plain-words ask alone.
    judged_plain = not plain and tokens >= PARAGRAPH_TOKENS and bool(counts.get("g_plain")) and \
        any(p in ask for p in _PLAIN_PHRASES) and _JUDGE.in_text(ask, hits)
    if plain or judged_plain:
        counts["summary"] = counts.get("summary", 0) + 2
    items = len(_ITEM_RE.findall(ask)) if prose and "\n" in ask else 0
    if items and not any(g in ask for g in _ITEM_GUARDS):
        items = 0  # "2." and "b)" count only in a list that has its first item
    # The full-width question mark only in non-ASCII text: a second scan of an English prompt finds nothing.
    questions = _count_char(low, "?", detail) + (0 if low.isascii() else _count_char(low, "\uff1f", detail))
    greeting = 1 if n_words <= 12 and _GREETING.match(low) else 0

    code_words = counts.get("code", 0)
    technical = code_words or shape or counts.get("depth")
    # The system prompt and earlier turns, read once: their kind and whether they are about depth.
    ctx_low, ctx_hits, deep_context = "", _NO_WORDS, False
    if context:
        ctx_low = scan_text(context).lower()
        ctx_hits = _VOCAB_KEYS.intersection(_words(ctx_low))
        deep_context = any("depth" in _VOCAB[w] for w in ctx_hits)
    # A conversation set up as a role-play ("You are role-playing a stone supplier. Stay in
    # character."): a reply with prices in it is a move in the game, not a sum to work out.
    game = bool(ctx_low) and any(phrase in ctx_low for phrase in _GAME_PHRASES) and prose and not shape and \
        not (counts.get("math") or expr > 1 or counts.get("prove") or counts.get("puzzle")) and \
        _QUANTITY_ASKED.search(ask) is None
    if game:
        roleplay = 1
    # Systems words count only beside code words, code or a deep conversation: alone they are everyday talk.
    # And not in the body of a long pasted document (an incident report mentions its outage).
    systems = counts.get("systems", 0) if (code_words or shape or deep_context) and (
        len(low) < LONG_DOCUMENT_CHARS or shape >= 2) else 0
    perf = 1 if shape and (counts.get("perf") or ("explain" in hits and "explain analyze" in low)) else 0
    constraints = counts.get("constraint", 0)
    if counts.get("g_same") and ("at the same time" in low or "at the same moment" in low) and \
            not _SAME_TIME_DAILY.search(low):
        counts["depth"] = counts.get("depth", 0) + 1  # two things at once: a concurrency ask in words
    # Several e-mail addresses and an ask for every/all/a list of them: extraction, whatever the verb.
    contacts = 1 if prose and not shape and counts.get("g_every") and "@" in low and \
        low.count("@") >= 2 else 0
    # A plan or schedule under stated rules; a decision weighed on several factors.
    csp = counts.get("csp", 0) if prose and not shape and (
        counts.get("csp", 0) >= 2 or constraints >= 2 or (numbers >= 3 and (
            constraints or not _only_from("csp", _CSP_ARTEFACTS, hits, counts)))) else 0
    # (A schedule with figures and no rule, "a simple schedule for 10 kids, 2 hours", is a plan to
    # write; dependencies with figures are a critical path to work out.)
    # A seating puzzle: who may sit next to whom, under two or more adjacency rules.
    if prose and not shape and counts.get("g_seat") and low.count("next to") >= 2 and (
            constraints or _negations(low)):
        csp = max(csp, 1)
    # An ordering puzzle: "figure out the order" under clues of who comes before or after whom.
    if prose and not shape and counts.get("g_order") and questions + ("figure out" in low) and \
            low.count(" before ") + low.count(" after ") >= 3 and _negations(low):
        csp = max(csp, 1)
        counts["puzzle"] = counts.get("puzzle", 0) + 1
    # An assignment puzzle: each of several has a different one, with facts that rule some out.
    if prose and not shape and counts.get("assign", 0) >= 2 and questions and _negations(low) >= 2:
        csp = max(csp, 1)
        counts["puzzle"] = counts.get("puzzle", 0) + 1  # a logic grid, whatever its figures
    # A probability asked for: by name, as odds/chances beside a random device, or in notation beside
    # one ("draw 3 with replacement. P(exactly 2 red)?").
    chance = 1 if prose and (counts.get("chance") or (counts.get("device") and "p(" in low and
                                                      _PROB_NOTATION.search(low) is not None) or (
        counts.get("chance_weak") and (
        counts.get("device") or (numbers >= 2 and ("at least" in ask or "at most" in ask))))) else 0
    # (Or beside "at least"/"at most" and figures: "the chance that at least one of 12 disks fails".)
    decision = 1 if counts.get("decide", 0) >= 2 and not shape and (
        numbers >= 3 or constraints >= 2 or n_words >= 40) else 0
    # A river crossing (the farmer, the wolf, the goat and the cabbage, in any of its guises).
    if prose and not technical and counts.get("g_river") and "boat" in low and (
            "alone" in low or "cross" in low):
        counts["puzzle"] = counts.get("puzzle", 0) + 1
    # "How do you ... ?" under two stated restrictions, with no code about: a riddle.
    if prose and not technical and constraints >= 2 and "how do you" in low:
        counts["puzzle"] = counts.get("puzzle", 0) + 1
    if "card" in hits and counts.get("creative") and _CARD_THING.search(ask) is not None and not (
            hits & _CARD_WRITING):
        # "I entered my debit card number": a bank card, a SIM or a graphics card is no card to write.
        counts["creative"] -= 1
    if (counts.get("creative") or counts.get("rewrite")) and not to_write and (
            technical or numbers >= 3 or constraints >= 2 or any(
            how in ask for how in ("how do i ", "how can i ", "how to ", "how would i "))):
        # "I want an email if it fails", "newsletter printing 540", "if I edit the row again": beside a
        # technical subject, figures or rules, or in a how-to ("how do I get email alerts"), such a word
        # is a thing talked about, not writing to do.
        for signal in ("creative", "rewrite"):
            if _only_from(signal, _EVERYDAY_WRITING, hits, counts):
                counts[signal] = 0
    # A translation ask (the rewrite words guard the substring scans).
    # (Or a rewrite asked of a translation made earlier in the conversation: "make it properly formal".)
    # (Code words name the subject of a CV or a release note to translate "into Spanish": with a human
    # language as the target, any number of them.)
    if counts.get("g_version") and any(short in ask for short in ("short version of", "shorter version of",
                                                                  "quick version of")):
        counts["summary"] = counts.get("summary", 0) + 1  # "give me the short version of this"
    # "Wie sagt man ... auf Japanisch?", "auf Englisch bitte: ...", "how do you say ... in Polish?"
    say_in = bool(prose and counts.get("g_say")) and _SAY_IN.search(ask) is not None
    # "Can you write my lab safety rules in Portuguese? ... 1. Goggles on ...": the rules below are the
    # text to translate, not constraints to satisfy.
    say_in = say_in or (bool(prose and counts.get("g_write")) and _WRITE_IN.search(ask) is not None)
    if say_in:
        counts["rewrite"] = counts.get("rewrite", 0) + 1
    translation = say_in or bool(not shape and counts.get("rewrite") and any(
        stem in part for part in (low, ctx_low) for stem in _TRANSLATE_STEMS) and (
        code_words < 3 or _INTO_LANGUAGE.search(ask) is not None))
    if not translation and ctx_low and (n_words <= FOLLOW_UP_LANGUAGE_WORDS or _SAME_IN.match(low)) and \
            not shape and (
            counts.get("rare_lang") or _LANGUAGE_NAME.search(low) is not None) and \
            any(stem in ctx_low for stem in _TRANSLATE_STEMS):
        # "and gaelic? the owner wants it in both" after a translation: the same text, another language.
        translation = True
        counts["rewrite"] = counts.get("rewrite", 0) + 1
    kinds = {
        "code": 3.0 * min(shape, 2) + min(code_words, 3) + min(counts.get("depth", 0) + systems + perf, 2)
        + (0.5 * counts.get("code_action", 0) if technical else 0.0)
        # "... in O(n^2)": a bound on a program to write is code, and its formula no sum.
        + (3.0 if big_o and (code_words or counts.get("code_action")) and not counts.get("prove") else 0.0),
        "math": 2.0 * min(expr, 2) + min(counts.get("math", 0), 3) + 2.0 * word_problem
        + (1.0 if units and numbers >= 2 else 0.0) + 2.5 * chance,
        "reasoning": 2.5 * min(counts.get("prove", 0), 2) + 2.0 * min(counts.get("puzzle", 0), 2)
        + (2.0 if counts.get("relation", 0) >= 2 and questions else 0.0)
        # One such phrase alone ("how can you tell", "step by step") is everyday talk; two are a puzzle.
        + 0.6 * min(phrases, 3) + (1.0 if phrases >= 2 else 0.0)
        + (1.0 if counts.get("constraint", 0) >= 3 else 0.0)
        # (A what-if over the asker's figures, "if i want my average to be 48 what do i need", is a sum.)
        + (1.5 + 0.5 * counts.get("hypothetical", 0) if if_then and not word_problem and not (
            numbers >= 3 and counts.get("math")) else 0.0)
        + (2.5 if csp else 0.0) + (4.0 if decision else 0.0),
        "extraction": 2.5 * min(counts.get("extraction", 0), 2) + 2.0 * fmt
        + (0.5 * counts.get("format", 0) if counts.get("extraction") else 0.0)
        + (2.0 if json_response else 0.0) + 2.5 * contacts,
        "deep_analysis": 1.5 * min(counts.get("analysis", 0), 3),
        "document_summary": 2.5 * min(counts.get("summary", 0), 2),
        "creative_writing": 2.0 * min(counts.get("creative", 0) + counts.get("rewrite", 0), 3)
        + 2.0 * roleplay,
        "casual_chat": 3.0 * greeting + (1.0 if counts.get("chat") and n_words <= 8 else 0.0),
    }
    # "Extract ..." or "Summarise ..." as the first word is the ask: the stories, poems and
    # novels in the text that follows are its material, not a writing request.
    lead = _VOCAB.get(words[0], ()) if words else ()
    if "pull" in hits and _PULL_OUT.match(ask) is not None:
        # "Pull out all the references in my essay draft": an extraction, whatever the essay says.
        lead = ("extraction",)
        kinds["extraction"] = max(kinds["extraction"], 2.5)
    to_format = bool(fmt) and _TO_FORMAT.match(ask) is not None and not _REWRITE_ASK.match(ask)
    if "explain" in lead and not counts.get("creative") and not roleplay:
        # "Explain the difference between BM25 and dense retrieval ... on long formal paragraphs": the
        # register words describe the material; the ask is an explanation, not a text to rewrite. Nor
        # are Prometheus's "summaries" a text to condense.
        kinds["creative_writing"] = min(kinds["creative_writing"], 0.5)
        if not to_notes and not plain and not judged_plain:
            kinds["document_summary"] = min(kinds["document_summary"], 0.5)
    if "extraction" in lead or "summary" in lead or to_format:
        # (So does "turn these notes into a CSV: name, class, ...": the essays and letters the notes
        # mention are the material.)
        kinds["creative_writing"] = min(kinds["creative_writing"], 1.5)
    if to_write and counts.get("creative") and not shape and _QUANTITY_ASKED.search(ask) is None:
        # "Zweite Zahlungserinnerung schreiben: Rechnung 2024-087, 1.480,50 €, Frist 7 Tage": a letter
        # to write carries its figures; nothing is asked of them.
        kinds["math"] = min(kinds["math"], 1.0)
    if "rewrite" in lead and translation:
        # "Translate into Norwegian for the client's summary: <a report>": the summary is where the
        # translation goes, not an ask for one.
        kinds["document_summary"] = min(kinds["document_summary"], 1.5)
    if ("rewrite" in lead or rewrite_opening) and shape < 2 and not translation:
        # "Rewrite this so I don't sound furious: <an email>": the figures, dates and if-clauses of the
        # text to rewrite are its material, not a word problem, fields to extract or an analysis to make.
        for kind in ("math", "extraction", "reasoning", "deep_analysis"):
            kinds[kind] = min(kinds[kind], 1.0)
        if not shape and (counts.get("g_sound") or _TONE.search(ask, 0, TONE_CHARS) is not None):
            # "Rewrite this so it sounds less corporate: <patch notes>": the bugs and the performance
            # are what the notes say; the ask is their tone.
            kinds["code"] = min(kinds["code"], 1.0)
    if to_notes:
        lead = ("summary",)
    if "summary" not in lead and counts.get("summary") and shape < 2 and tokens >= PARAGRAPH_TOKENS and \
            not (fmt or counts.get("format")) and _summary_line(low):
        # "What happened here? Short summary + likely root cause." on a line of its own above a pasted
        # log or changelog (or below it): the ask is a summary, the lines are its material.
        lead = ("summary",)
    technical_material = False
    if "summary" in lead and shape < 2 and (
            tokens >= PARAGRAPH_TOKENS or low.find(":", 0, SUMMARY_COLON) > 0):
        # "Summarise this thread: ..." about an outage or a paper: its subject is the material, the
        # ask is a summary (a summary of code, with code shapes, still reads the code; a one-line
        # "summarise what this script does" names its subject; a short "summarise this: <two
        # sentences>" has its material after the colon).
        # (The figures of a short news item are no technical material; a long report's timeline is.)
        # (Nor are two sentences of a release note after "summarise this:": no chain to garble.)
        technical_material = (tokens >= PARAGRAPH_TOKENS and kinds["code"] >= 2.0) or (
            tokens >= LONG_SOURCE_TOKENS and max(kinds[kind] for kind in HARD) >= 2.0)
        for kind in HARD:
            kinds[kind] = min(kinds[kind], 1.5)
    if game:
        kinds["math"] = min(kinds["math"], 1.0)  # the prices of a haggle in character are its moves
    if counts.get("summary") and not expr:
        # The key points of a text with figures in it: a summary, not a word problem.
        kinds["math"] = min(kinds["math"], 1.5)
    if (plain or judged_plain) and not shape:
        # The text's "we prove", its algorithm and its figures are its material, not the ask.
        for kind in HARD:
            kinds[kind] = min(kinds[kind], 1.5)
    # A poem about Python is a poem; code words alone (no code shape) yield to a writing ask.
    if kinds["creative_writing"] >= 2 and not shape:
        kinds["code"] = min(kinds["code"], 1.5)
        if roleplay:
            # "Act as an interviewer for a backend role": the role's topic is not a code ask,
            # not even as a runner-up taken for its higher tier.
            kinds["code"] = min(kinds["code"], 1.0)
    if not shape and counts.get("g_plan") and _study_plan(ask) and _PROGRAM_ASKED.search(ask) is None:
        # (A script that makes the schedule is still code.) Nor is an olympiad's "combinatorics" a
        # problem to solve, unless a formula is in the plan.
        kinds["code"] = 0.0
        if not expr:
            kinds["math"] = min(kinds["math"], 1.0)
            counts["math_adv"] = 0
    if translation:
        # A text to translate is not an ask to write code, extract fields or compute, whatever its vocabulary.
        for kind in ("code", "extraction", "math"):
            kinds[kind] = min(kinds[kind], 1.0)
    # "cheers, moving the call outside the lock was it. you're a lifesaver": thanks that ask nothing more
    # close a conversation, however hard it was.
    # (A text to translate or rewrite that thanks someone, "translate: 'Thank you to every volunteer'",
    # is an ask; "works now" is no "now can you ..."; one piece of code named, "it was the total += loss
    # thing", is the fix reported, not code asked about.)
    # ("That's exactly what I was missing, thanks" asks no "what".)
    thanks = shape <= 1 and n_words <= THANKS_WORDS and "?" not in low and not translation and \
        not counts.get("rewrite") and (_ASK_WORDS.isdisjoint(words) or (
            _ASK_WORDS.intersection(words) == _NOW and ("works now" in low or "working now" in low)) or (
            _ASK_WORDS.intersection(words) == _WHAT and _WHAT_WAS_NEEDED.search(low) is not None)) and (
        _THANKS.match(low) is not None or _THANKS_ANYWHERE.search(low) is not None or
        low.rstrip(" .!").endswith((". ty", "! ty", ", ty", "\nty")))
    # ("bro that actually fixed it. ty": "ty" as its own sentence; "Zacznij ty." is Polish "you start".)
    if (greeting and n_words <= 6 and not shape) or thanks:
        for kind in HARD:
            kinds[kind] = min(kinds[kind], 1.0)
    if thanks:
        kinds["casual_chat"] = max(kinds["casual_chat"], 3.0)
    history = n_words <= HISTORY_WORDS and not has_digit and not shape and _HISTORY.match(low) is not None
    if history:
        # "Who came up with the central limit theorem?": a fact about the subject, not a problem in it,
        # and its advanced words make nothing harder.
        for kind in HARD:
            kinds[kind] = min(kinds[kind], 0.5)
        counts["math_adv"] = counts["prove"] = 0

    # The two strongest kinds; on equal scores the higher tier ranks first (_KIND_ORDER).
    best, top, second, runner = "", -1.0, "", -1.0
    for name in _KIND_ORDER:
        value = kinds[name]
        if value > top:
            second, runner, best, top = best, top, name, value
        elif value > runner:
            second, runner = name, value
    explicit = task_type is not None
    tied_up = False  # the kind is a runner-up taken for its higher tier
    notes: list[str] = []
    language = ""  # guessed only when it matters (nothing stood out): it costs a pass over the words
    if explicit:
        assert task_type is not None
        kind = task_type
        confidence = 0.9
        notes.append(f"task_type {kind} given")
    elif top < 1.0:
        language = "cjk" if cjk else _language(words, low)
        kind, confidence = _unclassified(low, n_words, questions, tokens, language, notes)
    else:
        kind = best
        confidence = min(0.95, 0.55 + 0.08 * min(top, 5.0) + 0.05 * min(top - runner, 4.0))
        # Ties go up: when the runner-up is nearly as strong and lives on a higher tier, take it.
        if runner >= 1.0 and top - runner < 1.0 and \
                _TIER_RANK[_KIND_TIER[second]] > _TIER_RANK[_KIND_TIER[best]]:
            notes.append(f"{best}/{second} tie, took the higher")
            kind = second
            confidence = min(confidence, 0.55)
            tied_up = True
    inherited = None
    # "thanks!" or "ok" that asks nothing more closes the hard question before it; it does not continue it.
    closing = (greeting and n_words <= 6 and "?" not in low) or thanks
    # The earlier turns read as one ask: the kind and difficulty a follow-up may continue.
    earlier = score(context, tokens=len(context) // 4, personas=False) if context and not explicit and (
        kind in HARD or not closing) and not game else None
    if earlier is not None and kind not in HARD:
        # The kind the earlier turns set is the kind a follow-up continues: by their words, or read
        # as one ask when it is clear ("redo it and show each term" after a probability question;
        # not a post or a trip plan that merely holds figures).
        # (Not from one word of earlier turns that read clearly as a cheap ask: "bees in 12 fields" in a
        # sentence to make sound more academic is no extraction to continue.)
        clear = earlier.confidence >= CLEAR_CONTEXT
        if earlier.task_type in HARD or not clear:
            inherited = _context_kind(ctx_low, ctx_hits) or (earlier.task_type if clear else None)
        if inherited is not None:
            notes.append(f"{inherited} from the conversation")
            kind, confidence = inherited, max(confidence, 0.65)
    elif earlier is not None and earlier.task_type in HARD and kind != earlier.task_type and top < 2.0 and \
            not shape and earlier.confidence >= CLEAR_CONTEXT:
        # "Now make the JSON object shorter" after an extraction: one weak word of a follow-up ("json")
        # does not turn the conversation's hard ask into another kind.
        inherited = earlier.task_type
        notes.append(f"{inherited} from the conversation")
        kind, confidence = inherited, max(confidence, 0.65)
    elif earlier is not None and earlier.task_type == "code" and not shape and \
            earlier.confidence >= LOW_CONFIDENCE and (
                (kind == "math" and not expr and not chance and not counts.get("math") and
                 not counts.get("math_adv")) or
                (kind == "extraction" and _only_from("extraction", _PROGRAM_DATA, hits, counts))):
        # "ok, and what if I have multiple producers now, say 4 goroutines?" after a Go panic: a what-if
        # with figures in a conversation about code is a question about the code, not a word problem.
        # "now log everything to a csv with timestamp, ecu, did, status" after a script asked for: the
        # format and the fields are the program's data, as in "write a script that saves it as JSON".
        inherited = "code"
        notes.append("code from the conversation")
        kind, confidence = inherited, max(confidence, 0.65)
    if not explicit and has_tools and kind in ("casual_chat", "question_answer"):
        # An agent loop: small models pick tools and arguments less reliably.
        notes.append("tools offered")
        kind = "code"

    # Difficulty: what makes a hard kind of ask need the largest model.
    difficulty = 0
    fired: list[str] = []
    if tokens > LONG_TOKENS:
        difficulty += 1 + (tokens > VERY_LONG_TOKENS)
        fired.append("long")
    depth = counts.get("depth", 0) + systems + perf
    if depth:
        difficulty += 2 if depth >= 2 or (kind == "code" and (shape or counts.get("code_action"))) else 1
        fired.append("depth")
    if counts.get("prove"):
        difficulty += 2
        fired.append("prove")
    if counts.get("math_adv"):
        difficulty += 1 + (counts["math_adv"] >= 2)
        fired.append("advanced maths")
    # The ask of a long pasted document (an incident report, a contract) is not in its body's words.
    if kind == "code" and (len(low) < LONG_DOCUMENT_CHARS or shape >= 2):
        for guard in _PHRASE_GUARDS.intersection(hits):
            for signal, phrase in _GUARDED_PHRASES[guard]:
                if not counts.get(signal) and phrase in low:
                    counts[signal] = 1
        if counts.get("flaky"):
            # An intermittent failure in real code: the interleaving or input must be reasoned out.
            # Two points where tasks run at once (a race between awaits, threads or workers: the
            # "concurrency bug" no small model should get), one otherwise: a double-firing automation
            # or a test that fails now and then is a mid model's job in every team's labels but the first.
            # (A promise's ".then(" is no word; the "concurrent" words come from the ask's head and tail.)
            difficulty += 2 if (shape or inherited == "code") and (
                counts.get("concurrent") or ".then(" in low) else 1
            fired.append("intermittent bug")
        if counts.get("design"):
            difficulty += 1 + (numbers >= 3 or constraints >= 2 or low.count(",") >= 4)
            fired.append("design")
        if counts.get("restrict"):
            difficulty += 1
            fired.append("restricted")
    if kind in HARD and deep_context:
        difficulty += 1
        fired.append("depth in the conversation")
    # A hard follow-up ("what about |x + 10| < 5?", "and if the ticket is $2?") in a hard
    # conversation continues that conversation's difficulty, not just its kind.
    if earlier is not None and earlier.difficulty > difficulty and (earlier.task_type == inherited or (
            inherited is None and kind in HARD and earlier.task_type in HARD)):
        difficulty = earlier.difficulty
        fired.append("the conversation's difficulty")
    if kind == "reasoning" and (csp or decision):
        difficulty += 1 + decision
        fired.append("constraint satisfaction" if csp else "multi-factor decision")
    if kind == "reasoning" and phrases >= 2:
        difficulty += 1
        fired.append("reasoning asked")
    if kind == "math" and counts.get("math_adv") and numbers >= 3 and tokens < 150:
        difficulty += 1
        fired.append("advanced maths with data")
    if counts.get("constraint", 0) + phrases >= 3:
        difficulty += 1
        fired.append("constraints")
    # (Or parts numbered inline: "(1) extract a comparison table ... (2) compute the 36-month cost".)
    if items >= 3 or questions >= 3 or (ask.find("(1)", 0, PARTS_CHARS) >= 0 and "(2)" in ask):
        difficulty += 1
        fired.append("multi-part")
    if kind == "math" and word_problem and numbers >= 3 and not _pasted_rows(low):
        # (Sums and averages over pasted rows, a receipt or a meter log, are mechanical: the
        # difficulty of a word problem is in modelling quantities stated in prose.)
        # (Many figures make a textbook problem two points; the asker's own budget or recipe has
        # many figures by nature, and is one point however many: see one_point in _tier.)
        difficulty += 1 + (numbers >= 4 and not counts.get("g_self"))
        fired.append("multi-step word problem")
    if kind == "reasoning" and if_then:
        difficulty += 1
        fired.append("hypothetical")
    if kind == "math" and chance and counts.get("device") and " until " in ask:
        # "Flip a coin until two heads in a row: how many flips on average?" A stopping time, not one
        # draw: small and mid models get the recursion wrong.
        difficulty += 2
        fired.append("stopping time")
    if kind == "extraction" and tokens >= LONG_SOURCE_TOKENS and tokens <= LONG_TOKENS:
        # Structured data out of a long text: small models drop and invent fields. (Past
        # LONG_TOKENS the length point above has counted it already.)
        difficulty += 1
        fired.append("long source")
    if kind == "extraction" and tokens >= PARAGRAPH_TOKENS and (fmt or counts.get("format")) and (
            items >= 3 or low.count(",") >= 3) and len(_KEY_VALUE_LINE.findall(low)) < KEY_VALUE_LINES:
        # (Several fields out of one line is a mid model's job; out of a paragraph, less so. Out of
        # lines that already name them, "[WhiteElo "1512"]" or "model: WD40EFRX", it is copying.)
        difficulty += 1
        fired.append("several fields")
    if kind == "reasoning" and counts.get("puzzle") and (phrases or counts.get("constraint", 0) >= 2):
        difficulty += 1
        fired.append("puzzle with constraints")
    elif kind == "reasoning" and counts.get("puzzle", 0) >= 2:
        # Two puzzle words (knights and knaves, a liar and the truth): a logic puzzle, not a topic.
        difficulty += 1
        fired.append("logic puzzle")
    algo = counts.get("algo", 0) + 2 * big_o
    if kind == "code" and algo:
        # An algorithm to design or a complexity bound to meet is not a routine script.
        difficulty += 2
        fired.append("algorithmic")
    if kind == "code" and shape >= 2 and low.count("\n") >= 80:
        difficulty += 1
        fired.append("much code")

    simple = (bool(counts.get("g_plain")) and _SIMPLE.in_text(ask, hits)) or (
        bool(counts.get("g_lay")) and _in_ask_ends(_LAY_AUDIENCE, ask))
    # Two such demands, or one on a text of some length: "natural Italian" for one short line is easy.
    # (A text at stakes, a discharge letter or a tenancy clause, is one when it is long: "do you have
    # pain?" to say in Spanish is a phrase-book line, and a scam warning put "in simple words" for
    # pensioners asks for plain words, not a careful register.)
    # (Written, such a text is not for the smallest model either: below.)
    at_stakes = bool(counts.get("stakes")) and n_words >= STAKES_TEXT_WORDS and not simple
    rare_text = _rare_text(counts, low)
    demands = (counts.get("careful", 0) + counts.get("depth", 0) + counts.get("systems", 0)
               + (counts.get("stakes", 0) if at_stakes else 0)
               + 2 * (counts.get("rare_lang", 0) - ("latin" in hits and "latin america" in low))
               + 2 * rare_text
               + any(phrase in low for phrase in _NOT_WORD_FOR_WORD)) \
        if translation else 0  # (Latin, not Latin-American Spanish; a gravestone's Gaelic to read)
    if not translation and kind == "creative_writing" and counts.get("rare_lang"):
        # A note to write in a language small models write less well ("in Irish", "as Gaeilge").
        demands = 2 * _in_rare_language(low, hits)
    elif not translation and kind == "creative_writing" and not low.isascii() and \
            _RARE_SCRIPT.search(low, 0, SCRIPT_WINDOW) is not None:
        # ... or asked in its own script ("একটা ছোট রম্য রচনা লিখে দাও"): the text comes back in it.
        demands = 2
    elif not translation and kind == "creative_writing" and rare_text:
        demands = 2  # (or in Gaelic or Igbo words: "Tha thu nad neach-frithealaidh ann an cafaidh")
    careful = kind == "creative_writing" and (demands >= 2 or (demands == 1 and n_words >= 25))
    if careful:
        notes.append("translation that needs precision" if translation else
                     "a text in a language small models write less well")
    tier = _tier(kind, difficulty, explicit=explicit, tokens=tokens, shape=shape, low=low,
                 counts=counts, expr=expr, numbers=numbers - fractions, word_problem=word_problem + chance,
                 has_tools=has_tools, json_response=json_response, notes=notes, tied_up=tied_up,
                 kind_score=kinds.get(kind, 0.0), simple=simple, own=bool(counts.get("g_self")),
                 everyday=fired == ["hypothetical"])
    if tier == "deep" and kind == "code" and not shape and not explicit and \
            not counts.get("code_action") and not has_tools and _EXPLAIN_OPENING.match(low) is not None and \
            not {"algorithmic", "prove", "design", "advanced maths"}.intersection(fired):
        # "Explain how raft leader election avoids split brain", "how exactly does a deadlock happen in
        # postgres when two transfers cross?": a mechanism explained in depth, with no code to write or
        # fix, is a mid model's job (five of the six such prompts in train and general are labelled
        # balanced alone). An algorithm or a design to explain keeps its tier.
        tier = "balanced"
        notes.append("a mechanism to explain, no code to write")
    if tier == "balanced" and kind in ("math", "extraction") and not difficulty and not explicit and \
            not json_response and tokens < ONE_VALUE_TOKENS and not counts.get("stakes") and _one_value(low):
        # One value read off a short text ("donne moi juste le SIRET : « SARL ... »"): a lookup in the text.
        tier = "fast"
        notes.append("one value to read off the text")
    elif tier == "balanced" and kind == "extraction" and contacts and not difficulty and not explicit and \
            not json_response and tokens < ONE_VALUE_TOKENS and not any(
                word in ask for word in ("name", "person", "people", "phone", "who ")):
        # "Get all the email addresses out of this": one kind of string copied out of a short text, which
        # every team's labels but one accept from a small model (not with who they are beside them).
        tier = "fast"
        notes.append("addresses to copy out")
    if chance and kind == "math":
        notes.append("probability")
    # (Or an export to a format: "cómo exporto mi inventario de shopify a un csv?" names no fields.)
    lookup = (tier == "balanced" and not difficulty and not shape and not explicit and (
              kind == "code" or (kind == "extraction" and _HOW_OPENING.match(low) is not None and _only_from(
                  "extraction", _FILE_FORMATS, hits, counts)))
              and not tied_up and not context and not has_tools and not json_response
              and tokens < LOOKUP_TOKENS and not counts.get("code_action")
              and not any(mark in low for mark in ("\n", "`", "example"))
              # (A plan, a design or a program asked for, "plan the migration to Kubernetes with zero
              # downtime", "make a CLI in Go that tails a file", is no lookup.)
              and not low.startswith(_DESIGN_ASKS))
    if lookup and (not cjk or (language or _language(words, low)) in _LOOKUP_LANGUAGES):
        # "python reverse a string", "default port of PostgreSQL?", "undo my last git commit":
        # a one-line how-to every model has seen many times. (Not an ask to write or fix
        # something, nor a follow-up in a conversation. In another language it is as well known:
        # "¿Cómo configuro SSH para que solo acepte llaves?", "python 문자열 뒤집기", "rust hur gör man
        # String till &str". Not in Chinese or Japanese, where the words that ask to write a program,
        # "用Python写一个函数", are not told apart from a how-to.)
        tier = "fast"
        notes.append("one-line how-to")
    if tier == "fast" and inherited is not None and kind in HARD:
        # A follow-up in a conversation about a hard ask ("no, I think it's 10 cents") is no
        # one-step sum and no lookup of its own.
        tier = "balanced"
    # (A summary asked in two sentences for the asker's notes wants the gist of an abstract, not its every
    # condition.)
    brief = kind == "document_summary" and _BRIEF.search(ask, 0, BRIEF_CHARS) is not None
    if brief and tier == "fast" and (difficulty or technical_material):
        notes.append("a brief summary asked")
    if tier == "fast" and kind == "document_summary" and difficulty and not (plain or explicit or brief):
        # A summary of technical material or of a text with conditions (who holds which position,
        # what is decided under which constraint) is easy to garble: a mid model, never the largest.
        tier = "balanced"
    if tier == "fast" and kind == "creative_writing" and not explicit and not simple and not translation and (
            "constraints" in fired or ("multi-part" in fired and items >= 3)):
        # A piece to write with several rules or listed parts at once ("a toast: under two minutes, mention
        # the boat, no in-jokes, end on her mother"): following every instruction is where small models
        # slip, the writing itself is not. A mid model, never the largest. (Three questions in a pasted
        # message, "what does this guest want? ... ¿Hay alguien ...?", are the text's, not the brief's.)
        tier = "balanced"
        notes.append("writing with several parts or rules")
    if tier == "fast" and kind == "document_summary" and technical_material and \
            not (plain or explicit or brief):
        # A log, an incident report or a changelog to summarise: the causal chain is easy to garble.
        tier = "balanced"
        notes.append("summary of technical material")
    if tier == "fast" and not explicit and not (careful and not translation) and \
            kind in ("question_answer", "creative_writing") and (
            (counts.get("rare_lang") and (counts.get("saying") or _in_rare_language(low, hits))) or
            rare_text):
        # "¿Cómo se dice en náhuatl ...?", a conversation held in Gaelic, a Twi proverb to explain: the
        # answer is in a language small models read and write less well (every team's labels ask a mid
        # model for one). (A piece to write in one is already careful, above, and says so; a
        # translation's note says only "precision".)
        tier = "balanced"
        notes.append("a language small models read and write less well")
    if tier == "fast" and not explicit and numbers >= 2 and counts.get("g_stats") and \
            sum(literal in low for literal in _STATS_ONE_WAY) + 2 * any(
                literal in low for literal in _STATS_MANY_WAYS) >= 2 and \
            len(set(_STATS_RESULT.findall(low))) >= 2:
        # A model's results to read ("how do I interpret this for my committee? ... coef se(coef) Pr(>|z|)"),
        # even in plain words: which effect is real and what it means is where small models misread.
        # Every team labels such a table balanced; the largest model adds nothing.
        tier = "balanced"
        notes.append("statistical results to read")
    if tier == "fast" and kind == "document_summary" and not explicit and tokens >= PARAGRAPH_TOKENS and \
            _JUDGE.in_text(ask, hits):
        # A summary that also asks which terms are unusual or unfair judges the text, not just condenses it.
        tier = "balanced"
        notes.append("judgement on the text")
    if tier == "fast" and not explicit and not simple and \
            kind not in ("creative_writing", "document_summary") and \
            _technical_explanation(counts, n_words, questions):
        # "How does X work" about a protocol, a kernel, a database: the mechanism is the answer,
        # and small models blur it. (A short "what is DNS?" stays a lookup.)
        tier = "balanced"
        kind = "question_answer" if kind == "casual_chat" else kind
        notes.append("technical explanation")
    if json_response and tier == "fast":
        tier = "balanced"
        notes.append("JSON response asked")
    if tier == "fast" and questions and has_digit and not translation and low.count("\n") >= TABLE_ROWS and \
            low.count(",") + low.count("|") + low.count("\t") >= 3 * TABLE_ROWS:
        # A question about a pasted table (a CSV export, a log of figures): its headers ("email",
        # "title") are not a writing ask, and counting or averaging its rows is no lookup.
        tier = "balanced"
        notes.append("question about a pasted table")
    if digest and tier == "fast" and tokens >= LONG_SOURCE_TOKENS:
        # Who decided what, with conditions and reversals, across a long thread: easy to garble.
        tier = "balanced"
        notes.append("digest of a long thread")
    if careful and tier == "fast":
        tier = "balanced"
    if tier == "fast" and kind == "creative_writing" and not translation and at_stakes:
        tier = "balanced"
        notes.append("a text at stakes")
    if tier == "fast" and not explicit and not careful and ctx_low and \
            _in_rare_language(ctx_low, ctx_hits) and _INTO_LANGUAGE.search(ask) is None:
        # A conversation set to be held in a language small models write less well ("Speak mostly in
        # Kikuyu"): every reply is a text in it, as a note to write in Irish is. (Unless the ask names
        # another: "now write it properly in english only".)
        tier = "balanced"
        kind = "creative_writing" if kind == "casual_chat" else kind  # (no small talk for the chat rule)
        notes.append("replies in a language small models write less well")
    if tier == "fast" and not explicit and kind != "casual_chat" and not (brief or simple) and \
            estimate_tokens(text) >= LONG_ASK_TOKENS:
        # A long ask of its own (a page to rewrite, a letter to answer point by point, a pasted report to
        # summarise, a brief with its details): the more material and instructions, the more a small
        # model drops or garbles one, where a mid model keeps them. In train and general the fast
        # decisions past 80 tokens were under-routed 7.7% of the time, against 1.3% below; the price is
        # over-routing the long asks a small model would manage (about half the long summaries are
        # labelled fast alone). (Not a long conversation with a short last turn, nor chat, a
        # two-sentence summary for the asker's notes, or an ask put in simple words.)
        tier = "balanced"
        notes.append("a long ask")
    if tier == "deep" and simple and kind in ("math", "reasoning") and not explicit and \
            _in_ask_ends(_SCHOOL_LEVEL, ask) and not any(word in low for word in _COMPETITION):
        # A child's homework, a puzzle from a child's book: school maths and logic, which a mid model
        # solves reliably (and explains more gently than it needs a 120B model).
        tier = "balanced"
        notes.append("school level")
    # (An answer for a parent is simple; "my dad is on blood thinners" is health at stake, not an audience.)
    # (Asked simply, for a child: still biased up when a puzzle is to be solved, "each has a different pet".)
    if confidence < LOW_CONFIDENCE and tier == "fast" and (
            not simple or counts.get("stakes") or counts.get("assign", 0) >= 2) and (
            n_words > 25 or (
            n_words > UNSURE_FOREIGN_WORDS and not explicit and kind == "question_answer"
            and (cjk or (language or _language(words, low)) not in _LOOKUP_LANGUAGES))):
        # Unsure about a substantial ask: under-routing costs more than over-routing. (A shorter one in a
        # language small models read less well than English, French, German, Spanish, Italian, Portuguese
        # or Dutch, or in Chinese or Japanese, counts as substantial from 16 words.) Unless it is
        # everyday talk (how the asker feels, their family, food, pastimes) with nothing technical,
        # no sum in its figures (a decade or an age is none), no assignment puzzle and nothing at
        # stake (health, money, the law).
        if not technical and (not has_digit or (kinds["math"] == 0 and numbers <= 2)) and \
                counts.get("assign", 0) < 2 and not counts.get("stakes") and \
                not translation and (counts.get("feeling") or counts.get("life", 0) >= 2):
            notes.append("everyday talk")
        elif counts.get("how") and not counts.get("stakes") and \
                _DIFFERENCE.search(low, 0, DIFFERENCE_CHARS) is not None and "step by step" not in low and \
                "why" not in low:
            # (Not "step by step what happens when someone logs in with each, and why would our domain
            # still show ntlm": a mechanism walked through and a diagnosis are no lookup.)
            notes.append("a difference to look up")
        elif tokens < ONE_VALUE_TOKENS and not counts.get("stakes") and _one_value(low):
            notes.append("one value to read off the text")
        elif not questions and not context and not cjk and not counts.get("stakes") and \
                n_words <= NEWS_WORDS and _SHARED.search(low) is not None and _ASKING.search(low) is None:
            notes.append("news shared, nothing asked")
        elif n_words <= NEWS_WORDS and _VENT.search(low) is not None:
            notes.append("venting, no advice wanted")  # "i dont want advice i just want to moan"
        else:
            tier = "balanced"
            notes.append("unsure, biased up")
    if confidence < LOW_CONFIDENCE:
        language = language or ("cjk" if cjk else _language(words, low))
        notes.append(f"cannot tell ({'language ' + language if language != 'en' else 'few signals'})")
    if not detail:
        return Score(tier, kind, round(confidence, 2), _reason(kind, difficulty, fired, notes), difficulty,
                     (), language)
    language = language or ("cjk" if cjk else _language(words, low))
    signals = tuple((name, int(value)) for name, value in (
        ("code_shape", shape), ("code_words", code_words), ("math_expr", expr), ("numbers", numbers),
        ("word_problem", word_problem), ("prove", counts.get("prove", 0)),
        ("puzzle", counts.get("puzzle", 0)), ("constraints", counts.get("constraint", 0) + phrases),
        ("extraction", counts.get("extraction", 0) + fmt), ("creative", counts.get("creative", 0) + roleplay),
        ("rewrite", counts.get("rewrite", 0)), ("summary", counts.get("summary", 0)),
        ("chat", counts.get("chat", 0) + greeting), ("analysis", counts.get("analysis", 0)),
        ("depth", depth), ("list_items", items), ("questions", questions), ("words", n_words),
        ("tokens", tokens)) if value)
    return Score(tier, kind, round(confidence, 2), _reason(kind, difficulty, fired, notes), difficulty,
                 signals, language)


def _reason(kind: str, difficulty: int, fired: list[str], notes: list[str]) -> str:
    reason = f"{kind}, difficulty {difficulty}" + (" (" + ", ".join(fired) + ")" if fired else "")
    return reason + "; " + "; ".join(notes) if notes else reason


def _tier(kind: str, difficulty: int, *, explicit: bool, tokens: int, shape: int, low: str,
          counts: dict[str, int], expr: int, numbers: int, word_problem: int, has_tools: bool,
          json_response: bool, notes: list[str], tied_up: bool = False, kind_score: float = 0.0,
          simple: bool = False, own: bool = False, everyday: bool = False) -> str:
    concept = kind == "code" and not shape and not counts.get("code_action") and tokens < 60 and \
        _CODE_CONCEPT.match(low) is not None
    if kind in HARD:
        if concept and not explicit and not has_tools and not json_response and not (
                "`" in low or "\n" in low or "example" in low or "my " in low):
            # A concept question with no code attached ("process or thread?"): depth words name
            # the topic, they do not make it hard. With inline code, an example asked for or
            # the asker's own setup ("why does my script deadlock") it is no longer a lookup,
            # and its difficulty decides as for any code ask.
            if difficulty and not simple:
                notes.append("concept question, no code, on a hard subject")
                return "balanced"
            # (A concept asked for in simple words, "like I'm new to threading", is a small
            # model's job even on a deep topic.)
            notes.append("concept question, no code" + (", asked simply" if difficulty else ""))
            return "fast"
        # Maths, reasoning and extraction with any difficulty point (a multi-step word problem, a
        # puzzle, several fields out of a text) are where public judgements find small and mid
        # models furthest behind the largest: one point sends them to deep, once the kind is
        # clear (maths from one word like "series" is not: it needs two). Code needs two: a
        # routine script is a mid model's job, an algorithm or a concurrency bug is not.
        # Maths or an extraction about the asker's own things ("my budget", "our invoices") is an
        # everyday problem: every team's labels accept a mid model for it at one point, as they do
        # not for a problem set as in a textbook or a benchmark (which keeps one point).
        # A what-if ("if we moved to Leeds, what would change?") as the only point is reasoning in
        # everyday words: no team's labels need the largest model for it, as they do for a puzzle or
        # an argument asked for at one point.
        one_point = not tied_up and ((kind == "reasoning" and not everyday) or (
            kind in ("math", "extraction") and (explicit or (kind_score >= CLEAR_KIND and not own))))
        # An extraction from a long pasted source (a CV, an invoice, a log) is not harder for its length:
        # the fields are as easy to find, and a mid model reads the whole of it. Every team's labels but
        # one in seventeen accept balanced for it. (A short given text keeps its one point: that is
        # where judged benchmarks find the largest models ahead.)
        long_extraction = kind == "extraction" and not explicit and len(low) > 4 * LONG_SOURCE_TOKENS
        if difficulty >= (1 if one_point else DEEP_AT) and not long_extraction:
            return "deep"
        if long_extraction and difficulty:
            notes.append("extraction from a long source")
        if difficulty and own and not tied_up and not explicit and kind in ("math", "extraction") and \
                kind_score >= CLEAR_KIND:
            notes.append("the asker's own problem, one point")
        if not explicit and difficulty == 0 and not has_tools and not json_response:
            # One-step arithmetic is a small model's job; a word problem is not.
            if kind == "math" and expr <= 1 and (numbers <= 2 or (
                    tokens < AGGREGATE_TOKENS and _LIST_AGGREGATE.search(low) is not None)) and \
                    not word_problem and tokens < 40 and not counts.get("math_adv") and \
                    len(_FIGURE_QUESTION.findall(low)) <= 1 and _CALCULUS.search(low) is None and \
                    _SUCH_THAT.search(low) is None:
                # (Two questions of the figures, "what do I sell it for? and what's the markup %", are
                # two steps.)
                notes.append("one-step arithmetic")
                return "fast"
            if kind == "math" and tokens < 40 and not word_problem and not counts.get("math_adv") and \
                    low.count("=") == 1 and _linear_in_x(low):
                # "solve 3(x - 2) = 2x + 5 and show the steps": a linear equation in one unknown, school
                # algebra every model solves (not a quadratic, a system, a trigonometric equation, nor x
                # in a denominator).
                notes.append("a linear equation in one unknown")
                return "fast"
        return "balanced"
    if kind == "deep_analysis":
        # Named by the client, it is the seed's "deep analysis -> 120B"; inferred from
        # "compare"/"analyse" alone it is often humanities, which a mid model handles.
        return "deep" if explicit or difficulty >= DEEP_AT else "balanced"
    # Cheap kinds: writing, chat, plain questions, summaries of short text.
    if tokens > VERY_LONG_TOKENS or (kind == "question_answer" and difficulty >= DEEP_AT):
        return "balanced"
    if tokens > CHEAP_MAX_TOKENS and kind in ("document_summary", "question_answer"):
        return "balanced"
    return "fast"


def _unclassified(low: str, n_words: int, questions: int, tokens: int, language: str,
                  notes: list[str]) -> tuple[str, float]:
    """No kind stood out: a plain question, small talk, or text we cannot read."""
    foreign = language not in ("en",)
    if n_words <= 25 and tokens < 200:
        # A dozen words we cannot read are more likely an ask than small talk (a greeting shows).
        kind = "question_answer" if questions or _ASK_START.match(low) or (foreign and n_words > 12) \
            else "casual_chat"
        return kind, 0.45 if foreign else 0.6
    if tokens < 400:
        return "question_answer", 0.4 if foreign else 0.45
    notes.append("long text with no clear ask")
    return "question_answer", 0.35


def _in_ask_ends(pattern: re.Pattern[str] | _Phrases, ask: str) -> bool:
    """``pattern`` is in the first or the last lines of the ask: who the answer is for is said there,
    not in the pasted material between ("t1: FT8 for beginners" in a convention's programme)."""
    tail = max(ASK_END_CHARS, len(ask) - ASK_END_CHARS)
    return pattern.search(ask, 0, ASK_END_CHARS) is not None or (
        len(ask) > ASK_END_CHARS and pattern.search(ask, tail) is not None)


def _plain_ask(ask: str, hits: frozenset[str]) -> bool:
    """The ask is to put a text in plain words, and asks nothing else.

    One question mark is allowed when it ends the plain-words ask itself ("can you explain it in
    simple words?"); any other question applies the text ("do I get my money back?").
    """
    for phrase in _PLAIN_PHRASES:
        at = ask.find(phrase)
        if at >= 0:
            # (Looked for only once a plain-words phrase is found: a prompt without one pays no scan for
            # the judgement phrases.)
            if _JUDGE.in_text(ask, hits):
                return False  # "... in plain language and flag anything unfavourable": a judgement besides
            mark = ask.find("?")
            if mark < 0:
                return True
            # "..., just a few lines?" ends the plain-words ask; "... and tell me: does it ...?" does not.
            # (Nor does a question before it: "what do i have to do and by when? plain english pls".)
            between = ask[at:mark] if mark > at else ask[:mark]
            return ask.count("?") == 1 and 0 <= len(between) <= PLAIN_QUESTION_CHARS and \
                ":" not in between and " and " not in between
    return False


def _summary_line(low: str) -> bool:
    """The first or the last line of a pasted text asks for a summary (the lines between are its material)."""
    head, newline, rest = low.partition("\n")
    tail = rest.rstrip().rpartition("\n")[2]
    return bool(newline) and any(len(line) <= SUMMARY_LINE_CHARS and (any(
        "summary" in _VOCAB[w] for w in _VOCAB_KEYS.intersection(_words(line))) or _SUM_UP.search(line))
        for line in (head, tail))


def _pasted_rows(low: str) -> bool:
    """The text holds a pasted table or log: ``TABLE_ROWS`` lines or more with figures on them."""
    if low.count("\n") < TABLE_ROWS:
        return False
    return sum(1 for line in low.split("\n") if _has_digit(line)) >= TABLE_ROWS


def _negations(low: str) -> int:
    """How many negations the text holds ("didn't", "not", "n'a pas", "nicht", 不)."""
    return sum(low.count(n) for n in _NEGATIONS)


def _technical_explanation(counts: dict[str, int], n_words: int, questions: int) -> bool:
    """An ask to explain how a technical mechanism works, long or detailed enough to be more than a lookup.

    Two technical subjects with "how"/"why"/"explain", or one with an explicit "explain" (or
    "under the hood") in a longer or detailed ask.
    """
    strong = counts.get("explain", 0)
    if not strong and not counts.get("how"):
        return False
    subject = counts.get("tech", 0) + counts.get("depth", 0) + min(counts.get("code", 0), 1)
    detailed = bool(counts.get("detail"))
    if subject >= 2:
        return n_words >= TECH_EXPLAIN_WORDS or detailed or questions >= 2
    return subject == 1 and bool(strong) and (n_words >= 20 or detailed)


def _context_kind(low: str, words: frozenset[str]) -> str | None:
    """The hard kind the system prompt or earlier turns set, if any.

    ``low``: the context as scanned, lower-cased; ``words``: its words that are in the vocabulary.
    """
    code = sum(1 for w in words if "code" in _VOCAB[w])
    if code >= 2 or (code and _code_shape(low)):
        return "code"
    if any("math" in _VOCAB[w] for w in words) or (_has_digit(low) and (
            _arithmetic(low) or "how much" in low or "how many" in low)):
        return "math"
    if any("prove" in _VOCAB[w] or "puzzle" in _VOCAB[w] for w in words):
        return "reasoning"
    if any("extraction" in _VOCAB[w] for w in words):
        return "extraction"
    return None


def _algebra(low: str) -> bool:
    """A one-letter unknown in a relation: "2x + 3 = 11", "x+y = 4z", "|x + 5| < 10"."""
    for op, tail in _ALGEBRA_TAILS:
        if op not in low:
            continue
        for match in tail.finditer(low):
            at = match.start() - 1
            if at >= 0 and low[at] == " ":
                at -= 1
            if at >= 0 and "a" <= low[at] <= "z" and (at == 0 or not ("a" <= low[at - 1] <= "z")):
                return True
    return False


def _maths_marks(low: str) -> int:
    found = 0
    if ("=" in low or "<" in low or ">" in low) and _algebra(low):
        found += 2  # an unknown to solve for: never one-step arithmetic
    for guard, marks in _EXPR_MARKS:
        if guard in low:
            found += sum(1 for mark in marks if mark in low)
    if not low.isascii():
        found += sum(1 for symbol in _EXPR_SYMBOLS if symbol in low)
        found += "π" in low and _LONE_PI.search(low) is not None
    return found


def _arithmetic(low: str) -> int:
    """How many "digit operator digit" shapes the text holds (at most 3)."""
    return _masked_arithmetic(low.encode("utf-8", "surrogatepass").translate(_EXPR_TABLE))


def _masked_arithmetic(masked: bytes) -> int:
    """``_arithmetic`` of a text already masked with ``_EXPR_TABLE``."""
    return _matches(_EXPR_MASKED, masked, 3)


def _matches(pattern: re.Pattern[bytes], masked: bytes, enough: int | None) -> int:
    """How many times ``pattern`` matches ``masked``: all, or up to ``enough`` (re stops there)."""
    n = 0
    for _ in pattern.finditer(masked):
        n += 1
        if n == enough:
            break
    return n


def _format_asked(low: str) -> bool:
    """The prompt asks for a structured format ("as JSON", "into a table", "list all the names")."""
    for name in _FORMATS:
        start = low.find(name)
        tries = 0
        while start >= 0 and tries < 3:
            if _FORMAT_BEFORE.search(low, max(0, start - 24), start):
                return True
            start = low.find(name, start + 1)
            tries += 1
    return "list " in low and _LIST_ALL.search(low) is not None


def _code_shape(low: str, keywords: frozenset[str] | None = None, words: frozenset[str] | None = None) -> int:
    """How many distinct code shapes the text holds (marks and keyword shapes), up to ``SHAPES_ENOUGH``.

    ``keywords``: the prompt's words that start a keyword shape (``def``, ``return`` ...), whose
    patterns are searched; ``words``: its words that are guards of marks (``print``, ``self``
    ...). None: search the text for them.
    """
    if words is None:
        words = frozenset(w for w in _WORD_GUARDED if w in low)
    found = 0
    for guard, mark in _CHAR_MARKS:
        if guard in low and mark in low:
            found += 1
            if found >= SHAPES_ENOUGH:
                return found
    for guard in _WORD_GUARDED.intersection(words):
        for mark in _WORD_MARKS[guard]:
            if mark in low:
                found += 1
                if found >= SHAPES_ENOUGH:
                    return found
    if keywords is None:
        keywords = frozenset(w for w, _, _ in _CODE_WORD_SHAPES if (w if w == "function" else w + " ") in low)
    if keywords:
        # NOTE(routing): the keyword is looked up among the prompt's words (head and tail of a
        # long prompt), not searched in the whole text: ten substring scans of a 2,000-character
        # code prompt were a sixth of its decision. A keyword seen only in the middle of a long
        # prompt does not count; its code shows by its marks.
        for word, needs, pattern in _CODE_WORD_SHAPES:
            if word in keywords and needs in low and pattern.search(low):
                found += 1
                if found >= SHAPES_ENOUGH:
                    return found
    return found


def _has_digit(low: str) -> bool:
    return any(d in low for d in "0123456789")  # ten memchr calls; a regex \d scan is 40x slower


def _count_char(low: str, char: str, exact: bool) -> int:
    """How many times ``char`` occurs: exactly, or up to ``QUESTIONS_ENOUGH``.

    str.count of one character walks the whole text (11,000 instructions on 2,000
    characters); str.find is a memchr, so a few finds cost a tenth of that.
    """
    if exact:
        return low.count(char)
    n, at = 0, low.find(char)
    while at >= 0 and n < QUESTIONS_ENOUGH:
        n += 1
        at = low.find(char, at + 1)
    return n


def tier_at_least(tier: str, floor: str) -> str:
    """The higher of two tiers."""
    return tier if _TIER_RANK[tier] >= _TIER_RANK[floor] else floor


def tier_name(rank: int) -> str:
    return TIERS[rank]
