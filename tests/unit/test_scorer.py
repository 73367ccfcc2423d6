"""The built-in scorer: kinds of ask, difficulty, confidence, languages, odd input.

The expectations follow the public judgements the scorer is built from:
small models match large ones on chat, writing, role-play, rewriting,
humanities and short summaries (fast); they lose on code, maths, multi-step
reasoning and extraction (balanced, or deep when hard). None of these
prompts comes from a labelled evaluation set.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from octoroute.config import TASK_TYPES
from octoroute.routing import scorer as scorer_module
from octoroute.routing.rules import estimate_tokens
from octoroute.routing.scorer import LOW_CONFIDENCE, SCAN_CHARS, language_of, scan_text, score


def scored(text: str, **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("tokens", len(text) // 4)
    return score(text, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("prompt", "tier", "task_type"), [
    # everyday chat and small talk
    ("hello!", "fast", "casual_chat"),
    ("thanks a lot, that helped", "fast", "casual_chat"),
    ("good morning :)", "fast", "casual_chat"),
    # writing, role-play, rewriting, translation of short text
    ("Write a haiku about autumn leaves", "fast", "creative_writing"),
    ("Write me a funny birthday message for my sister", "fast", "creative_writing"),
    ("Pretend you are a pirate captain and greet my guests", "fast", "creative_writing"),
    ("Rephrase this more politely: send me the file now", "fast", "creative_writing"),
    ("Translate to German: where is the train station?", "fast", "creative_writing"),
    # summaries of short text
    ("Summarize: the shop opens at nine and closes at five on weekdays.", "fast", "document_summary"),
    # simple questions
    ("Who wrote Pride and Prejudice?", "fast", "question_answer"),
    ("What is the boiling point of water at sea level?", "fast", "question_answer"),
    # code: balanced, deep with depth
    ("Write a Python function that checks whether a string is a palindrome", "balanced", "code"),
    ("Fix this bug:\n```js\nconst x = [1,2,3];\nx.forEach(i => console.log(i);\n```", "balanced", "code"),
    ("Implement a thread-safe bounded queue in Java with blocking put and take", "deep", "code"),
    ("Review this login code for SQL injection and other security vulnerabilities:\n"
     "def login(u, p):\n    return db.execute(\"SELECT * FROM users WHERE u='%s'\" % u)", "deep", "code"),
    # maths: one-step arithmetic and a linear equation in x are small; other equations balanced;
    # multi-step word problems deep
    ("What is 12 * 12?", "fast", "math"),
    ("Solve 2x + 3 = 11 for x", "fast", "math"),
    ("Solve x^2 - 5x + 6 = 0", "balanced", "math"),
    ("A shop sells pens at $2 and notebooks at $5. Tom buys 3 pens and 4 notebooks and pays with $50. "
     "How much change does he get?", "deep", "math"),
    ("Find the derivative of x^3 * sin(x) and evaluate the integral of it from 0 to pi", "deep", "math"),
    # reasoning
    ("Prove that the sum of two even numbers is even.", "deep", "reasoning"),
    ("Solve this logic puzzle step by step: exactly one of the three guards always lies; "
     "each must answer only yes or no.", "deep", "reasoning"),
    # extraction
    ("Extract the product names and prices from this text and return them as JSON: "
     "apples cost 3, pears cost 4, plums cost 2, figs cost 6", "balanced", "extraction"),
    ("Extract the sender's email address from this message: hi, mail me at a@b.c", "balanced", "extraction"),
])
def test_kind_and_tier(prompt: str, tier: str, task_type: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == (tier, task_type), got.reason


@pytest.mark.parametrize(("prompt", "tier", "task_type"), [
    ("Hallo, wie geht's?", "fast", "casual_chat"),
    ("Schreibe ein kurzes Gedicht über den Regen", "fast", "creative_writing"),
    ("Écris une fonction Python qui trie une liste", "balanced", "code"),
    ("Démontrez que racine de 2 est irrationnel", "deep", "reasoning"),
    ("Traduce al inglés: buenos días", "fast", "creative_writing"),
    ("Riassumi questo testo: il negozio apre alle nove.", "fast", "document_summary"),
    ("Quantos minutos há em 3 horas?", "balanced", "math"),
    ("Bereken 15 + 27", "fast", "math"),
    ("Привет! Как дела?", "fast", "casual_chat"),
    ("Напиши функцию на Python для сортировки списка", "balanced", "code"),
    ("请用Python写一个函数来反转字符串", "balanced", "code"),
    ("证明根号2是无理数", "deep", "reasoning"),
    ("ありがとう\uff01", "fast", "casual_chat"),
])
def test_other_languages(prompt: str, tier: str, task_type: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == (tier, task_type), got.reason


def test_unreadable_prompt_says_so_with_low_confidence() -> None:
    got = scored("Kuinka voin parantaa puutarhani maaperää ennen ensi kevään istutuksia, "
                 "kun savimaa on tiivistä ja vesi jää seisomaan sateen jälkeen pitkäksi aikaa "
                 "ja kasvit kärsivät siitä joka vuosi enemmän ja enemmän?")
    assert got.confidence < LOW_CONFIDENCE
    assert "cannot tell" in got.reason
    assert got.tier == "balanced"  # a substantial ask it cannot read is biased up, not down


def test_confident_prompt_has_high_confidence() -> None:
    assert scored("Write a Rust function that parses a CSV line into fields").confidence >= 0.8
    assert scored("hi").confidence >= 0.9


def test_ties_between_kinds_go_to_the_higher_tier() -> None:
    # summary words and code words in equal measure: the code tier wins.
    got = scored("Summarize what this Python script does")
    assert got.tier == "balanced" and got.task_type == "code"


def test_a_poem_about_code_is_a_poem() -> None:
    got = scored("Write a poem about Python programming")
    assert (got.tier, got.task_type) == ("fast", "creative_writing")


def test_explicit_task_type_is_never_overruled() -> None:
    code_looking = "def f(x):\n    return x * 2\n# make this funnier"
    got = scored(code_looking, task_type="creative_writing")
    assert got.task_type == "creative_writing" and got.tier == "fast"
    assert "task_type creative_writing given" in got.reason
    assert scored("hi", task_type="code").task_type == "code"
    assert scored("hi", task_type="code").tier == "balanced"  # a named hard kind is never fast


def test_explicit_deep_analysis_is_deep_inferred_is_balanced() -> None:
    assert scored("Compare the two plans", task_type="deep_analysis").tier == "deep"
    got = scored("Compare the two plans")
    assert (got.task_type, got.tier) == ("deep_analysis", "balanced")


def test_length_moves_cheap_kinds_up() -> None:
    doc = "Summarize this report. " + "The quarterly results were mixed across regions. " * 200
    got = scored(doc)
    assert got.task_type == "document_summary" and got.tier == "balanced"
    assert scored("Summarize this report. The results were mixed.").tier == "fast"


def test_length_makes_hard_asks_deep() -> None:
    code = "Refactor this module:\n```python\n" + "def f(x):\n    return x + 1\n" * 300 + "```"
    got = scored(code)
    assert got.tier == "deep" and "long" in got.reason


def test_context_makes_a_short_follow_up_inherit_the_hard_kind() -> None:
    got = scored("and the other one?", context="Write a Python function that merges two sorted lists")
    assert got.task_type == "code" and got.tier == "balanced"
    assert scored("and the other one?").tier == "fast"
    # A chatty context does not push anything up.
    assert scored("thanks!", context="Write a poem about the sea").tier == "fast"


def test_tools_and_json_response_need_at_least_balanced() -> None:
    assert scored("what's the weather in Paris?", has_tools=True).tier == "balanced"
    assert scored("what's the weather in Paris?").tier == "fast"
    got = scored("Tell me about Paris", json_response=True)
    assert (got.tier, got.task_type) == ("balanced", "extraction")


def test_concept_question_about_code_is_fast_but_code_attached_is_not() -> None:
    assert scored("Explain this function").tier == "fast"
    assert scored("What is a Python decorator?").tier == "fast"
    assert scored("Explain this function:\n```\nint f(int x) { return x * 2; }\n```").tier == "balanced"


def test_dates_and_ids_are_not_arithmetic() -> None:
    got = score("Meeting notes 2024-05-01, ticket ABC-1234, room 3/4", tokens=10, detail=True)
    assert dict(got.signals).get("math_expr", 0) == 0


def test_reason_never_holds_prompt_text() -> None:
    marker = "Zanzibarquux"
    for text in (f"Write code for {marker}", f"{marker}?", f"Prove {marker} exists", marker * 40):
        assert marker.lower() not in scored(text).reason.lower()


def test_signals_and_language_only_with_detail() -> None:
    plain = score("Solve 2x + 3 = 11", tokens=4)
    assert plain.signals == ()
    detailed = score("Solve 2x + 3 = 11", tokens=4, detail=True)
    assert ("math_expr", 3) in detailed.signals and detailed.language == "en"  # "3 = 11" and an unknown


@pytest.mark.parametrize(("text", "language"), [
    ("Was ist der Unterschied zwischen der und die?", "de"), ("Quelle est la capitale de la France ?", "fr"),
    ("¿Qué hora es en la ciudad de México?", "es"), ("Привет, как дела?", "cyrillic"), ("你好", "cjk"),
    ("What is the time?", "en"),
])
def test_language_guess(text: str, language: str) -> None:
    assert language_of(text) == language


def test_long_prompt_scans_head_and_tail() -> None:
    prompt = "lorem ipsum " * 9000 + "\n```python\nprint(1)\n```"
    assert len(scan_text(prompt)) <= SCAN_CHARS + 1
    assert scored(prompt).task_type == "code"


@pytest.mark.parametrize("prompt", ["", " ", "\n\n", "?", "\x00\x01", "\u2028", "🙂" * 10, "\ud800 lone",
                                    "def " * 25_000, "=" * 100_000, "9+" * 50_000, "?" * 100_000])
def test_odd_input_returns_a_verdict(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier in ("fast", "balanced", "deep")
    assert got.task_type in TASK_TYPES
    assert 0.0 <= got.confidence <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.integers(0, 50_000), st.sampled_from([None, *TASK_TYPES]),
       st.booleans(), st.booleans())
def test_any_text_gets_a_valid_verdict(text: str, tokens: int, task_type: str | None, tools: bool,
                                       json_response: bool) -> None:
    got = score(text, tokens=tokens, task_type=task_type, has_tools=tools, json_response=json_response,
                detail=True)
    assert got.tier in ("fast", "balanced", "deep") and got.task_type in TASK_TYPES
    assert 0.0 <= got.confidence <= 1.0 and got.reason
    if task_type is not None:
        assert got.task_type == task_type
    if json_response:
        assert got.tier != "fast"


@pytest.mark.parametrize(("prompt", "tier", "task_type"), [
    ("Write a function that finds the longest common subsequence with dynamic programming", "deep", "code"),
    ("Write a function that returns the largest of three numbers", "balanced", "code"),
    ("Ann is taller than Bo and Bo is taller than Cy. Who is the shortest?", "balanced", "reasoning"),
    ("Tom has two sisters and each sister has one brother. How many brothers are there?", "balanced", "math"),
])
def test_algorithmic_code_and_spelled_out_riddles(prompt: str, tier: str, task_type: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == (tier, task_type), got.reason


def test_everyday_words_are_not_puzzles() -> None:
    assert scored("What should I eat before and after a run?").tier == "fast"


@pytest.mark.parametrize(("prompt", "puzzle"), [
    ("P says Q is lying. Q says R is lying. R says P and Q both lie. Who is telling the truth?", True),
    ("my son says he fed the cat and my daughter says he is lying. how do I get the truth out of them?",
     False),
])
def test_statements_about_each_others_truth_are_a_liars_puzzle(prompt: str, puzzle: bool) -> None:
    got = scored(prompt)
    assert (got.task_type == "reasoning" and got.tier == "deep") is puzzle, got.reason


CODE_SNIPPET = "\n\ndef total(items):\n    s = 0\n    for i in items:\n        s += i.price\n    return s\n"
GO_SNIPPET = "\n\nfunc worker(ch chan int) {\n    for v := range ch {\n        fmt.Println(v)\n    }\n}\n"


JS_SNIPPET = ("\n\nfunction useSearch(q) {\n  const [r, setR] = useState([]);\n  useEffect(() => {\n"
              "    fetch('/s?q=' + q).then(x => x.json()).then(setR);\n  }, [q]);\n  return r;\n}\n")


@pytest.mark.parametrize(("prompt", "tier"), [
    # an intermittent failure where tasks run at once: a race, to be reasoned out interleaving by
    # interleaving (the "concurrency bug" no small model should get)
    ("Our Go consumer occasionally drops a message under load, what's going on?" + GO_SNIPPET, "deep"),
    ("Users say the results sometimes show an older query. Find the bug." + JS_SNIPPET, "deep"),
    ("This asyncio handler occasionally processes a message twice, why?\n\nasync def handle(self, m):\n"
     "    if m.id in self.seen:\n        return\n    await self.store(m)\n    self.seen.add(m.id)\n", "deep"),
    # an intermittent failure in sequential code: one point, a mid model's job in the labels
    ("This function sometimes returns a wrong total. Why?" + CODE_SNIPPET, "balanced"),
    ("This works on my laptop but fails in production, any idea?" + CODE_SNIPPET, "balanced"),
    # the same code with an ordinary ask stays balanced
    ("Add a docstring to this function." + CODE_SNIPPET, "balanced"),
    # intermittent data with no code attached is an ordinary ask
    ("Our Postgres table sometimes holds -1 readings from a broken sensor; how do I filter them out?",
     "balanced"),
])
def test_intermittent_bugs_in_code(prompt: str, tier: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == (tier, "code"), got.reason


@pytest.mark.parametrize(("prompt", "tier"), [
    # a system to design under several requirements
    ("Design a job queue for our Django backend: 3 workers, retries with backoff, at most 10k jobs a day, "
     "and no job may run twice.", "deep"),
    ("Diseña la arquitectura de una API de pagos con varios servidores y una base de datos.", "deep"),
    # design words without anything technical are writing
    ("Design a birthday card for my grandmother with a garden theme.", "fast"),
])
def test_design_asks(prompt: str, tier: str) -> None:
    assert scored(prompt).tier == tier, scored(prompt).reason


@pytest.mark.parametrize(("prompt", "tier"), [
    # data integrity and distributed correctness beside code words
    ("Our Postgres workers double-process orders; how do we make the handler idempotent and keep "
     "consistency across the payment transaction?", "deep"),
    ("Review our login code: we store API tokens as md5 hashes in the database.", "deep"),
    ("Our RabbitMQ consumers see each message at least twice after a failover; how do we make "
     "processing idempotent?", "deep"),
    # the same words in everyday talk
    ("My bank shows a transaction I don't recognise. What should I do?", "fast"),
    ("How do I stop my phone from being exposed to the sun all day in the car?", "fast"),
])
def test_systems_words_need_a_technical_context(prompt: str, tier: str) -> None:
    assert scored(prompt).tier == tier, scored(prompt).reason


def test_speed_work_on_attached_code_goes_deep() -> None:
    got = scored("The profiler says this is our hot spot; how do I make it faster?" + CODE_SNIPPET)
    assert (got.tier, got.task_type) == ("deep", "code"), got.reason
    assert scored("How do I make my laptop boot faster?").tier == "fast"


@pytest.mark.parametrize("prompt", [
    "Write a JSON pretty-printer in JavaScript without using JSON.stringify, and explain the recursion.",
    "Implement a priority queue as a binary heap in Rust, no libraries.",
])
def test_restricted_algorithmic_code_goes_deep(prompt: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == ("deep", "code"), got.reason


def test_restriction_alone_leaves_routine_code_balanced() -> None:
    assert scored("Write a bash script that renames .jpeg files to .jpg without sudo.").tier == "balanced"


def test_security_context_makes_a_follow_up_deeper() -> None:
    context = "You are a security reviewer for our Flask API.\nHere is how our login endpoint checks tokens."
    follow_up = "the reset token is md5 of the user id and the date, valid for 2 days"
    plain = scored(follow_up)
    followed = scored(follow_up, context=context)
    assert followed.tier == "deep" and "depth in the conversation" in followed.reason
    assert plain.tier != "deep"


@pytest.mark.parametrize("prompt", [
    # a schedule under stated rules
    "Seat 6 guests at a round table. Constraints: Ana and Ben must not sit together, Cy must sit next to "
    "Di, and Ed cannot face Fay. Give an arrangement that satisfies all of them.",
    # a build order with dependencies
    "Tasks: A (2h), B (3h, needs A), C (1h), D (4h, needs B and C). With two people, what is the "
    "shortest total time and which dependencies decide it?",
])
def test_constraint_satisfaction_is_deep_reasoning(prompt: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == ("deep", "reasoning"), got.reason


def test_weighed_decisions_are_deep_reasoning() -> None:
    got = scored("We are deciding whether to rent or buy a delivery van. Rent is 900 a month, a van costs "
                 "38,000, we drive 2,000 km a month and may expand in 2 years. Lay out the decision "
                 "criteria and recommend one.")
    assert (got.tier, got.task_type) == ("deep", "reasoning"), got.reason
    assert scored("Can you recommend a good book? Consider that I liked Dune.").tier == "fast"


@pytest.mark.parametrize("prompt", [
    "Is this argument valid? 'All cats sleep a lot. Tom sleeps a lot. So Tom is a cat.' Explain.",
    "The lights dim whenever the fridge starts, but only in winter. Think it over and give the most "
    "likely cause, step by step.",
])
def test_reasoning_phrases_make_a_reasoning_ask(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "reasoning" and got.tier != "fast", got.reason


def test_riddle_with_restrictions_is_reasoning() -> None:
    got = scored("You have two ropes that each burn in exactly one hour, but unevenly, and no clock. "
                 "How do you measure exactly 45 minutes?")
    assert got.task_type in ("reasoning", "math") and got.tier != "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "Show that the product of two odd integers is odd.",
    "Show that every finite abelian group of prime order is cyclic.",
])
def test_show_that_is_a_proof(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "deep" and "prove" in got.reason, got.reason


def test_show_that_in_a_table_is_not_a_proof() -> None:
    assert "prove" not in scored("Can you show that in a table?").reason
    # naming a structure is not proving something about it
    assert scored("What is an abelian group?").tier == "fast"


def test_how_many_with_a_unit_is_a_word_problem() -> None:
    got = scored("How many times a week does the minute hand pass the hour hand?")
    assert got.task_type == "math" and got.tier == "balanced", got.reason


@pytest.mark.parametrize(("prompt", "linear"), [
    ("solve 5x - 4 = 2x + 11 and show the steps", True),
    ("4(x + 3) - (x - 1) = 19, solve pls", True),
    ("résous 7x + 2 = 3x - 10", True),
    ("solve x² - 7x + 12 = 0 show steps", False),  # a quadratic
    ("solve 4x + 2y = 14 and x - y = 2", False),  # a system
    ("solve x(x - 3) = 10", False),  # x times x
    ("solve 2/(x - 1) = 4", False),  # x in a denominator
    ("solve 2cos(x) - 1 = 0 for 0 <= x < 360", False),
])
def test_a_linear_equation_in_one_unknown_is_a_small_models_job(prompt: str, linear: bool) -> None:
    got = scored(prompt)
    assert (got.tier == "fast") is linear, got.reason
    assert got.task_type == "math", got.reason


def test_angles_are_not_one_step_arithmetic() -> None:
    assert scored("What's the angle between the hands of a clock at 9:20?").tier == "balanced"


def test_advanced_maths_with_data_goes_deep() -> None:
    got = scored("Three dice are rolled. Given that the sum is 10, what is the probability that one shows 4?")
    assert (got.tier, got.task_type) == ("deep", "math"), got.reason


@pytest.mark.parametrize(("prompt", "tier"), [
    ("Translate into Japanese, natural and polite register: our store closes early on Friday.", "balanced"),
    ("Translate this clause into French with legal precision: the tenant shall indemnify the landlord.",
     "balanced"),
    # technical text to translate is a translation, not a concurrency ask
    ("Translate into German for engineers: each worker thread holds a mutex while it flushes the cache.",
     "balanced"),
    ("Translate to Spanish: see you tomorrow at the station.", "fast"),
    # one demand on one short line is still easy
    ("Translate into natural Italian: we are closed on Sundays.", "fast"),
])
def test_careful_translations_need_balanced(prompt: str, tier: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == (tier, "creative_writing"), got.reason


@pytest.mark.parametrize(("prompt", "tier"), [
    ("What is a Python decorator?", "fast"),
    # depth words name the topic of a concept question; they do not make it deep
    ("What's the difference between a mutex and a semaphore in threading?", "balanced"),
    # inline code, an example asked for, or the asker's own setup: more than a lookup
    ("What does `git rebase -i HEAD~3` do?", "balanced"),
    ("Explain Python generators with an example.", "balanced"),
    ("Why is my Rust build so slow?", "balanced"),
    # the asker's own deadlock is a bug to explain, not a concept to define
    ("Why does my Go service deadlock when two goroutines take the same two mutexes in opposite order?",
     "deep"),
])
def test_code_concept_questions(prompt: str, tier: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == (tier, "code"), got.reason


def test_a_stated_complexity_bound_makes_code_deep() -> None:
    got = scored("Write a Python function that finds the k-th smallest of two sorted lists in O(log n).")
    assert (got.tier, got.task_type) == ("deep", "code"), got.reason


def test_extraction_from_a_long_text_is_a_mid_models_job() -> None:
    notes = " ".join(f"Meeting {i}: Dana agreed to send the contract to Lee by Friday, budget 12,000."
                     for i in range(30))
    long = scored("Extract every person, date and amount from these notes as JSON.\n\n" + notes)
    short = scored("Extract the person, the day and the amount as JSON: Dana pays Lee 300 on Friday.")
    # (Never fast: small models drop and invent fields from a long text. Nor deep for its length alone.)
    assert (long.task_type, long.tier) == ("extraction", "balanced"), long.reason
    assert "long source" in long.reason, long.reason
    assert (short.task_type, short.tier) == ("extraction", "balanced"), short.reason


def test_a_long_pasted_document_is_not_its_vocabulary() -> None:
    report = " ".join(f"At {i}:00 the API database had an outage and the failover replica served stale "
                      f"data, so the team restarted the backend." for i in range(16))
    assert len(report) > 1600
    got = scored("Summarise this incident report for our sales team in five sentences:\n\n" + report)
    assert got.tier != "deep", got.reason
    # the same words in a short technical ask do count
    assert scored("Our API database had an outage and the failover replica served stale data. "
                  "How do we keep consistency during failover?").tier == "deep"


# --- generality: other languages, paraphrases, structural signals (issue 15) -------------
# Written for these tests, not taken from any labelled set.

@pytest.mark.parametrize("prompt", [
    "If I roll two dice, what are the odds that both show an odd number?",
    "Quelle est la probabilité de tirer deux as d'un jeu de 52 cartes ?",
    "¿Cuál es la probabilidad de sacar cara tres veces seguidas con una moneda?",
    "Wie groß ist die Wahrscheinlichkeit, mit drei Würfeln dreimal die Sechs zu würfeln?",
    "抛三次硬币\uff0c至少一次正面朝上的概率是多少\uff1f",
    "コインを4回投げて表がちょうど2回出る確率は\uff1f",
])
def test_a_probability_is_maths_in_any_language_and_never_fast(prompt: str) -> None:
    result = scored(prompt)
    assert result.task_type == "math" and result.tier != "fast", result


def test_chance_words_alone_are_everyday_talk() -> None:
    assert scored("Any chance you could suggest a name for my cat?").tier == "fast"
    assert scored("The parcel arrived earlier than expected, thanks!").tier == "fast"


@pytest.mark.parametrize("prompt", [
    "Explain how the Linux kernel schedules threads across CPU cores and what a context switch costs.",
    "How does a database use a write-ahead log to survive a crash in the middle of a transaction?",
    "so how does https actually protect my cookies from someone on the same wifi, under the hood?",
    "Erkläre mir genau, wie ein Router mit BGP entscheidet, über welches Netzwerk ein Paket läuft.",
    "Explique en détail comment fonctionne le protocole TCP quand un paquet est perdu.",
    "请详细解释一下数据库索引的原理。",
])
def test_explaining_a_technical_mechanism_needs_at_least_balanced(prompt: str) -> None:
    result = scored(prompt)
    assert result.tier != "fast", result


@pytest.mark.parametrize("prompt", ["What is DNS?", "what does a VPN do", "What is a compiler?"])
def test_a_short_concept_lookup_stays_fast(prompt: str) -> None:
    assert scored(prompt).tier == "fast"


@pytest.mark.parametrize("prompt", [
    "On an island, knights always tell the truth and knaves always lie. P says Q is a knave; "
    "Q says both are knights. Who is who?",
    "Drei Freunde haben jeder ein anderes Haustier: Hund, Katze, Fisch. Tom hat keinen Hund, "
    "Eva hat nicht die Katze und nicht den Fisch. Wer hat welches Tier?",
    "Three friends each drive a different car: red, blue, green. Ann doesn't drive red, Bo doesn't "
    "drive blue or red. Who drives which car?",
])
def test_logic_and_assignment_puzzles_go_deep(prompt: str) -> None:
    result = scored(prompt)
    assert (result.task_type, result.tier) == ("reasoning", "deep"), result


def test_a_hyphenated_compound_is_read_by_its_parts() -> None:
    result = scored("Schreibe eine Python-Funktion, die eine Liste sortiert.")
    assert (result.task_type, result.tier) == ("code", "balanced"), result


def test_several_addresses_with_an_ask_for_all_of_them_are_extraction() -> None:
    result = scored("Could you pull every person and address out of this into a list? Ana (ana@x.io), "
                    "Ben <ben@y.org> and Cy, cy@z.net")
    assert result.task_type == "extraction" and result.tier != "fast", result


def test_a_concurrency_bug_told_in_words_goes_deep() -> None:
    result = scored("Our Python worker sometimes charges a customer twice when two requests for the same "
                    "order arrive at the same time. How do we stop that?")
    assert (result.task_type, result.tier) == ("code", "deep"), result


def test_a_long_ask_in_an_unread_language_leans_up() -> None:
    # Finnish: no vocabulary of ours; a long ask is more likely work than small talk.
    result = scored("Voisitko selittää minulle perusteellisesti, miten aurinkopaneelien hyötysuhde muuttuu "
                    "talven aikana ja mitä sille voi tehdä pohjoisessa ilmastossa?")
    assert (result.task_type, result.tier) == ("question_answer", "balanced"), result
    assert result.confidence < LOW_CONFIDENCE and "unsure, biased up" in result.reason


@pytest.mark.parametrize(("prompt", "tier", "task_type"), [
    # One difficulty point sends clear maths and extraction to deep (where small and mid
    # models fall furthest behind); code needs two unless it is an algorithm to design.
    ("A baker sells cakes at $12 and pies at $8. On Monday she sold 14 cakes and 9 pies, on "
     "Tuesday twice as many of each. What was the total revenue for the two days?", "deep", "math"),
    ("Extract the people, organisations and places from this paragraph and return them as JSON with "
     "one key per type: Ada Lovelace worked with Charles Babbage in London, where the Analytical "
     "Engine was designed; the Science Museum, the Royal Society and Cambridge University later "
     "studied her notes, and IBM named a language after her.", "deep", "extraction"),
    ("Implement a function to find the longest common subsequence of two strings.", "deep", "code"),
])
def test_one_point_sends_clear_hard_kinds_deep(prompt: str, tier: str, task_type: str) -> None:
    got = scored(prompt)
    assert (got.tier, got.task_type) == (tier, task_type), got.reason


def test_one_ambiguous_maths_word_is_not_enough_for_deep() -> None:
    # "series" is a TV series as often as a sum: maths from it alone needs a second point.
    got = scored("Which sci-fi series should I watch next? I liked two of them, it was 12 EUR a month.")
    assert got.tier != "deep", got.reason


def test_a_leading_extract_verb_is_the_ask_whatever_the_text_is_about() -> None:
    prompt = ("Extract the title, author and year of each book below, one per line.\n"
              "a) A novel about a young wizard, a story of friendship, published in 1997 by J.K. Rowling.\n"
              "b) An epic fantasy tale, a poem-like saga by J.R.R. Tolkien from 1954.")
    assert scored(prompt).task_type == "extraction"


def test_key_points_of_a_text_with_figures_is_a_summary() -> None:
    prompt = ("Give me the key points of this paragraph: adults should walk 150 minutes per week, "
              "eat 5 portions of fruit a day and sleep 7 to 9 hours; children need 60 minutes a day.")
    got = scored(prompt)
    assert (got.tier, got.task_type) == ("fast", "document_summary"), got.reason


def test_a_follow_up_keeps_the_conversations_difficulty() -> None:
    first = ("Implement a function to find the k-th smallest element in the union of two sorted lists "
             "in O(log n).")
    assert scored(first).tier == "deep"
    follow_up = scored("and what about a faster version?", context=first)
    assert follow_up.tier == "deep", follow_up.reason
    assert "the conversation's difficulty" in follow_up.reason
    # A follow-up to an easy ask of the same kind stays where that ask was.
    easy = scored("now in Go please", context="Write a Python script that renames .jpeg files to .jpg")
    assert easy.tier == "balanced", easy.reason


def test_thanks_after_a_hard_question_does_not_inherit_it() -> None:
    hard = "Implement a function to find the longest common subsequence of two strings."
    for closing in ("thanks!", "ok", "thanks, that works great"):
        assert scored(closing, context=hard).tier == "fast", closing
    assert scored("thanks! and in Rust?", context=hard).tier != "fast"  # a question continues it


def test_a_pushback_on_a_word_problem_stays_maths() -> None:
    first = ("A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. "
             "How much does the ball cost?")
    got = scored("No, I'm pretty sure the answer is 10 cents.", context=first)
    assert got.task_type == "math" and got.tier != "fast", got.reason


def test_a_role_play_about_engineering_is_a_role_play() -> None:
    got = scored("Act as an interviewer for a senior backend engineer position (Python, Postgres, "
                 "distributed systems). Ask me one question at a time, then give brief feedback.")
    assert (got.tier, got.task_type) == ("fast", "creative_writing"), got.reason


def test_dutch_translation_ask_is_a_translation() -> None:
    got = scored("Kun je dit naar het Engels vertalen? Het is een brief van de gemeente: "
                 "'Geachte heer, wij hebben uw aanvraag ontvangen.'")
    assert got.task_type == "creative_writing", got.reason


@pytest.mark.parametrize("prompt", [
    "If 3a - 7 = 2a + 5, what is a?",
    "how many whole numbers satisfy |n - 3| < 4?",
    "given p+q = 10 and p*q = 21, find p-q",
])
def test_an_unknown_in_a_relation_is_algebra_not_arithmetic(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("math", "balanced"), got.reason


@pytest.mark.parametrize("prompt", ["Set x = 5 in the config file", "rate my plan: A > B > C"])
def test_a_letter_beside_a_sign_is_not_algebra(prompt: str) -> None:
    assert scored(prompt).task_type != "math"


def test_what_does_it_mean_is_not_statistics() -> None:
    got = scored("what does this error mean?", context="You are a Python coding assistant.")
    assert got.task_type == "code", got.reason  # a concept question about code, not maths


def test_a_game_that_needs_the_board_kept_is_not_small_talk() -> None:
    got = scored("let's play chess, I'm white. 1. e4. keep track of the board and show it after each move")
    assert got.tier != "fast", got.reason


def test_translating_into_a_lower_resource_language_needs_balanced() -> None:
    poster = " for a poster: 'Free eye checks every Monday morning.'"
    assert scored("Translate to Swahili" + poster).tier == "balanced"
    assert scored("Translate to Spanish" + poster).tier == "fast"


def test_what_a_long_thread_decided_is_a_digest() -> None:
    thread = "\n".join(
        f"From: person{i}@example.org\nSubject: Re: booth design\nWe could do the display design with "
        f"option {i}, but only if the budget holds and the supplier confirms by Friday; otherwise "
        f"we fall back to last year's stand and ask finance again." for i in range(12))
    got = scored("Read this thread and tell me what was decided and what's still open:\n" + thread)
    assert (got.task_type, got.tier) == ("document_summary", "balanced"), got.reason
    short = scored("What was decided here? 'We meet on Friday at ten, Anna brings the slides.'")
    assert short.tier == "fast", short.reason


# --- the fast paths decide as the plain definitions do ---------------------------------
# A request's score counts numbers and question marks only up to what a rule looks at,
# skips pattern searches whose required character is absent, and tallies stop words by
# language; ``--explain`` (detail) counts exactly. These check both against each other and
# against the plain definitions, on texts built from the fragments that feed those signals.

_FRAGMENTS = st.sampled_from([
    " ", "\n", "? ", "\uff1f", "1", "42", "3.5", " + ", " - ", " = ", "==", "=>", "!=", "+=", "::", "{\n",
    ";\n", ";", "(", ")", "$", "%", "how many", "how much", "if a man has", "per hour", "what is the total",
    "step by step", "at least", "if and only if", "def f(x):", "function g(", "return x;", "return y",
    "class A:", "import os", "let mut v =", "const k = 1", "select a from b", "print(", "self.x",
    "):\n    ", "\n    return x", "(draft):\n",
    *"the and der die und le la et el que il è o é de het een apples costs knights prove python code write "
     "a is what ist nicht pour para per voor".split(),
])
_TEXTS = st.lists(_FRAGMENTS, min_size=1, max_size=120).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_a_request_scores_as_explain_does(text: str) -> None:
    fast, full = scored(text), scored(text, detail=True)
    assert (fast.tier, fast.task_type, fast.confidence, fast.reason, fast.difficulty) == \
        (full.tier, full.task_type, full.confidence, full.reason, full.difficulty)


def _plain_code_shape(low: str) -> int:
    """Every mark and keyword shape searched in the whole text, no guards."""
    marks = sum(1 for _, mark in scorer_module._CODE_MARKS if mark in low)
    shapes = sum(1 for word, _, pattern in scorer_module._CODE_WORD_SHAPES
                 if (word if word == "function" else word + " ") in low and pattern.search(low))
    return min(marks + shapes, scorer_module.SHAPES_ENOUGH)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_guarded_code_shapes_count_as_the_plain_search(text: str) -> None:
    low = text.lower()
    assert scorer_module._code_shape(low) == _plain_code_shape(low)


def _plain_language(words: list[str]) -> str:
    """The stop-word vote as first written: seven intersections with the sample."""
    sample = frozenset(words[:60])
    best, hits = "other", 1
    for lang, stops in scorer_module._STOPWORDS.items():
        n = len(stops.intersection(sample))
        if n > hits:
            best, hits = lang, n
    return best


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*sorted(set().union(*scorer_module._STOPWORDS.values())), "zz", "qq"]),
                max_size=80))
def test_the_stop_word_tally_votes_as_the_intersections(words: list[str]) -> None:
    # Ties go to the first language; ASCII text with no vote reads as English.
    text = " ".join(words)
    expected = _plain_language(words)
    if expected == "other" and text.isascii():
        expected = "en"
    assert scorer_module._language(words, text) == expected


def test_if_and_only_if_is_a_reasoning_phrase() -> None:
    # Its guard is the word "only" (in most code prompts "if" is, and the phrase search is a scan).
    signals = dict(scored("p holds if and only if q holds", detail=True).signals)
    assert signals["constraints"] == 2  # "only" as a constraint word, and the phrase


def test_a_pasted_text_made_plain_is_a_summary_not_a_proof() -> None:
    abstract = ("We demonstrate that a soil bacterium derived from alpine lakes degrades polyethylene at "
                "room temperature. Using isotope labelling we derive the pathway and show that two enzymes "
                "are required; knocking out either halts degradation, which we prove by complementation.")
    got = scored("can u explain this abstract in plain english, like 2 sentences, for my mum: " + abstract)
    assert (got.task_type, got.tier) == ("document_summary", "fast"), got.reason
    asked = scored("Summarise this in plain language and tell me: does it work on all plastics? " + abstract)
    assert asked.task_type != "document_summary" or asked.tier != "fast", asked.reason


def test_a_discount_is_not_a_percentage_sum() -> None:
    got = scored("5 instagram captions for an autumn sale, 15% off all candles this weekend, cozy vibe")
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason
    assert scored("what is 15% of 80?").task_type == "math"


def test_a_question_about_a_pasted_table_needs_balanced() -> None:
    rows = "\n".join(f"{1000 + i},user{i % 4}@example.org,2026-09-{i + 1:02d},{20 + i * 3}.50"
                     for i in range(8))
    got = scored("whats my repeat customer rate from this export?\norder_id,email,date,total\n" + rows)
    assert got.tier == "balanced", got.reason


def test_explaining_a_named_theorem_is_not_a_proof() -> None:
    got = scored("explain CAP theorem and where raft fits in. is etcd CP or AP?")
    assert got.tier != "deep", got.reason
    assert scored("Prove the CAP theorem for a two-node system.").tier == "deep"


@pytest.mark.parametrize("prompt", [
    "python reverse a string",
    "how do I undo my last git commit but keep the changes?",
    "How do I unzip a .tar.gz file on Linux?",
    # up to about 30 tokens: a short question about a tool, with nothing to write or fix
    "why does my docker container lose all its data when i recreate it? i thought containers were like VMs",
])
def test_a_one_line_how_to_about_code_goes_fast(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("code", "fast"), got.reason
    assert "one-line how-to" in got.reason


@pytest.mark.parametrize(("prompt", "context"), [
    ("Write a Python function that reverses a string", ""),  # something to write
    ("Explain Python decorators with a simple example.", ""),  # an example asked for
    ("如何用 Python 读取 JSON 文件并遍历它的键?", ""),  # in Chinese
    ("how do I do that in Go?", "Write a Python function that merges two sorted lists"),  # a follow-up
    # past the lookup's length: a setup with several parts to get right
    ("How do I set up WireGuard on my Debian home server so my phone can reach the whole LAN through "
     "my router, and which script should run the firewall and IP forwarding rules?", ""),
])
def test_a_short_code_ask_that_is_no_lookup_stays_balanced(prompt: str, context: str) -> None:
    got = scored(prompt, context=context)
    assert got.tier == "balanced", got.reason


def test_a_thousands_comma_or_a_decimal_point_does_not_split_a_number() -> None:
    assert dict(scored("what's 18% of 2,450?", detail=True).signals)["numbers"] == 2
    got = scored("what's 18% of 2,450?")
    assert (got.task_type, got.tier) == ("math", "fast"), got.reason
    assert dict(scored("errors per hour: 0,0,1,45 and 0.84 on average", detail=True).signals)["numbers"] == 5


def test_a_summary_asked_first_reads_its_technical_material_as_material() -> None:
    thread = ("Summarise this GitHub issue thread: the problem, who holds which position, the next step.\n\n"
              "@lena: streaming responses stop after 60 s behind nginx; direct to the backend it works.\n"
              "@jb: proxy_read_timeout defaults to 60s, bump it to 300s?\n"
              "@sam: a band-aid; a stalled model holds connections for five minutes. I'd send SSE keepalive "
              "comments every 15 s from the gateway instead, it avoids the race with the buffer flush.\n"
              "@marco: keepalives touch the streaming code refactored last week; risky before the release.\n")
    got = scored(thread)
    assert (got.task_type, got.tier) == ("document_summary", "balanced"), got.reason


def test_a_bug_report_to_translate_is_a_translation_not_an_extraction() -> None:
    got = scored('Traduce al inglés este reporte para el issue tracker: "Al subir un PDF de más de 20 MB, '
                 "la interfaz se queda cargando y nunca muestra error. En los logs aparece 'request entity "
                 "too large' (413). Con archivos pequeños funciona bien.\"")
    assert got.task_type == "creative_writing", got.reason


def test_how_long_something_should_take_with_no_figures_is_not_a_word_problem() -> None:
    got = scored("How long should a standup take, in minutes, for a small team?")
    assert got.task_type != "math", got.reason
    sums = scored("A train covers 120 km at 80 km/h and then 60 km at 40 km/h. How long does the trip take?")
    assert sums.task_type == "math" and sums.tier != "fast", sums.reason


@pytest.mark.parametrize(("text", "expected"), [
    ("solve 2x + 3 = 11", True), ("if x - 3 = 7, what is x?", True), ("|x + 5| < 10", True),
    ("y^2 = 9", True), ("released 2024-05-01 = a Friday", False), ("a = b + c", False),
    ("x_max + 1 = limit", False),  # a name, not a lone letter
])
def test_the_algebra_check_finds_a_lone_unknown_before_any_operator(text: str, expected: bool) -> None:
    assert scorer_module._algebra(text) is expected


def test_a_chance_of_at_least_one_among_figures_is_a_probability() -> None:
    got = scored("We have 12 disks with 1.5% AFR each. Chance that at least one fails this year?")
    assert got.task_type == "math" and "probability" in got.reason, got.reason
    assert scored("any chance you could look at this at least once today?").task_type != "math"


def test_a_follow_up_continues_the_kind_the_earlier_turns_clearly_set() -> None:
    first = "We have 12 disks with 1.5% AFR each, independent. Chance that at least one fails this year?"
    got = scored("the second one is obviously broken. redo it properly and show each term", context=first)
    assert (got.task_type, got.tier) == ("math", "balanced"), got.reason
    # Figures in a post to write do not make its rewrite a sum.
    post = ("Write a Facebook post announcing our treat boxes: 4 mini cakes, 2 macarons and a card, £18, "
            "pre-order by Thursday 7 March, collect Saturday 9 or Sunday 10 March.")
    assert scored("too long and a bit cheesy. cut it to half", context=post).tier == "fast"


def test_sum_this_up_is_a_summary_not_an_addition() -> None:
    letter = ("sum this up in 3 bullet points for me (what, when, what I have to do):\n\nDear Parent/Carer, "
              "Year 9 students will visit the science centre on Tuesday 14 May 2024. The trip costs 12.50 "
              "per student; please pay by 1 May and return the consent form by 3 May. Students need a "
              "packed lunch and should arrive at 8:15. The coach returns at 15:30.")
    got = scored(letter)
    assert (got.task_type, got.tier) == ("document_summary", "fast"), got.reason


def test_a_plain_words_ask_may_end_in_its_own_question_mark() -> None:
    article = ("The energy price cap will fall by 7% from 1 July, reducing the typical dual-fuel bill paid "
               "by direct debit to 1,568 a year, down 122 from the April-June level. The cap limits the unit "
               "rate and standing charge suppliers can charge, not the total bill.")
    got = scored("can you explain this to me in simple words, just a few lines?\n\n" + article)
    assert (got.task_type, got.tier) == ("document_summary", "fast"), got.reason
    applied = scored("in simple words please: will my bill go down if I'm on a fixed tariff?\n\n" + article)
    assert applied.task_type != "document_summary", applied.reason


def test_an_atomic_number_is_chemistry_not_concurrency() -> None:
    got = scored("what is the atomic number of potassium and what's its symbol")
    assert (got.task_type, got.tier) != ("code", "balanced"), got.reason
    assert scored("why is my C++ counter wrong even though I made it atomic? two threads increment it").tier \
        != "fast"


def test_a_concept_asked_for_simply_goes_fast_even_on_a_deep_topic() -> None:
    got = scored("Explain what a mutex is like I'm a junior dev who's never done threading. Short.")
    assert got.tier == "fast" and "asked simply" in got.reason, got.reason
    assert scored("Explain what a mutex is and how it interacts with the scheduler under contention, with "
                  "the kernel-level details of futexes.").tier != "fast"


def test_a_product_description_to_write_is_writing_whatever_its_figures() -> None:
    got = scored("I sell soy candles on Etsy. Write a product description for one called 'Rainy Library': "
                 "notes of old paper and cedar. 8oz amber jar, cotton wick, ~45h burn time. Cozy vibe.")
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_latin_is_a_language_small_models_translate_poorly_latin_america_is_not() -> None:
    latin = scored("Latin homework, please translate: hostibus victis, Caesar milites in castra reduxit, ut "
                   "quiescerent; nam diu pugnaverant.")
    assert latin.tier == "balanced", latin.reason
    spanish = scored('Translate to Spanish (neutral, for Latin America and Spain): "Keys are shown only '
                     'once, so store them in your password manager."')
    assert spanish.tier == "fast", spanish.reason


def test_time_zone_arithmetic_in_code_is_a_subtle_bug() -> None:
    code = ("My script says 8 hours for both night shifts but the pay was wrong. Who's right?\n\n"
            "```python\nfrom zoneinfo import ZoneInfo\nLONDON = ZoneInfo('Europe/London')\n\n"
            "def shift_hours(start, end):\n    start = datetime.fromisoformat(start).replace(tzinfo=LONDON)\n"
            "    end = datetime.fromisoformat(end).replace(tzinfo=LONDON)\n"
            "    return (end - start).total_seconds() / 3600\n```")
    got = scored(code)
    assert (got.task_type, got.tier) == ("code", "deep"), got.reason


def test_a_hard_follow_up_continues_the_conversations_difficulty() -> None:
    first = "How many integers are in the solution of the inequality |x + 5| < 10"
    assert scored(first).tier == "deep"
    got = scored("What about |x + 10| < 5", context=first)
    assert (got.task_type, got.tier) == ("math", "deep"), got.reason
    assert "the conversation's difficulty" in got.reason
    # Alone, the same follow-up is a mid model's job.
    assert scored("What about |x + 10| < 5").tier == "balanced"


def test_a_variable_named_parser_is_not_an_algorithm_to_design() -> None:
    context = ("You are a coding assistant. Be precise and never invent APIs.\n"
               "Can you add a --verbose flag to this argparse setup?\n\nparser = argparse.ArgumentParser()\n"
               "parser.add_argument('path')\nargs = parser.parse_args()")
    got = scored("thanks. now make it configure logging to DEBUG when verbose is set, INFO otherwise",
                 context=context)
    assert (got.task_type, got.tier) == ("code", "balanced"), got.reason


@pytest.mark.parametrize("prompt", ["how many grams in an ounce", "How many seconds are in a day?"])
def test_a_unit_conversion_is_a_lookup_not_a_word_problem(prompt: str) -> None:
    assert scored(prompt).tier == "fast", scored(prompt).reason


def test_a_counting_riddle_with_units_is_still_not_a_lookup() -> None:
    got = scored("How many times a day do the hour and minute hands of a clock overlap?")
    assert got.tier != "fast", got.reason


def test_a_port_number_question_is_a_lookup_and_a_follow_up_is_not() -> None:
    assert scored("default port of PostgreSQL?").tier == "fast"
    got = scored("now port it to Go", context="Write a Python function that merges two sorted lists")
    assert (got.task_type, got.tier) == ("code", "balanced"), got.reason


def test_sums_over_pasted_rows_are_no_multi_step_word_problem() -> None:
    readings = ("These are my electricity meter readings (kWh) at 8am each day. How much did we use each day "
                "and what's the average?\n\nMon 3 Jun  18204\nTue 4 Jun  18213\nWed 5 Jun  18221\n"
                "Thu 6 Jun  18230\nFri 7 Jun  18252\nSat 8 Jun  18260")
    got = scored(readings)
    assert (got.task_type, got.tier) == ("math", "balanced"), got.reason
    story = ("A bakery sells 120 loaves on Monday, 15% more on Tuesday and 30 fewer on Wednesday than on "
             "Tuesday. How many loaves did it sell over the three days?")
    assert scored(story).tier == "deep", scored(story).reason


def test_digits_after_a_letter_name_things_not_quantities() -> None:
    ask = "should I run a 30B at Q4_K_M or a 14B at Q8_0 on x86 with 24 GB?"
    signals = dict(scored(ask, detail=True).signals)
    assert signals["numbers"] == 3  # 30B, 14B, 24; not q4, q8, x86
    assert dict(scored("$5 and £18", detail=True).signals)["numbers"] == 2


def test_a_config_to_write_in_yaml_is_not_an_extraction() -> None:
    got = scored("Can you write a Home Assistant automation in YAML for this:\n"
                 "- turn on light.porch at sunset\n- turn it off at 23:30\n"
                 "- but only if input_boolean.away_mode is off\n"
                 "Use whatever the current syntax is.")
    assert got.task_type == "code", got.reason
    extracted = scored("Return these as JSON with name and email: Ann Lee <ann@x.org>, Bo Chen <bo@y.org>, "
                       "Cy Diaz <cy@z.org>")
    assert extracted.task_type == "extraction", extracted.reason


def test_is_that_logically_valid_is_a_logic_question_and_make_this_sound_is_not() -> None:
    got = scored("All VMs on node pve1 are backed up nightly. The backup of VM 104 failed. My partner "
                 "concluded 'so VM 104 must be on pve1'. Is that logically valid?")
    assert got.task_type == "reasoning" and got.tier != "fast", got.reason
    tone = scored("Make this sound less passive aggressive: the deadline was yesterday.")
    assert tone.task_type != "reasoning", tone.reason


def test_a_rhyming_translation_needs_more_than_fluency() -> None:
    got = scored("Translate this birthday poem for my mother-in-law into French, keeping it rhyming and "
                 "light:\n\nAnother year of garden beds,\nOf roses white and tulips red,\n"
                 "Of coffee strong and stories long,\nAnd humming every kitchen song.")
    assert got.tier == "balanced", got.reason


def test_a_description_column_in_a_pasted_table_is_no_writing_ask() -> None:
    rows = "\n".join(f"2024-04-{d:02d},SHOP {d},-{10 + d}.50" for d in range(1, 12))
    got = scored("Our joint account for April. Please total by category and tell me what % of the "
                 "EUR 4,850 income we spent.\n\ndate,description,amount\n" + rows)
    assert got.task_type != "creative_writing" and got.tier != "fast", got.reason
    candle = scored("Write a product description for a hand-poured soy candle called Rainy Library.")
    assert candle.task_type == "creative_writing", candle.reason


def test_a_summary_that_also_judges_the_text_needs_balanced() -> None:
    lease = ("Art. 3 Duration: indefinite, from 1 July 2024. Art. 4 Rent: EUR 1,650 a month, indexed every "
             "1 July by CPI + 3%. Art. 7 The tenant pays all repairs, including structural ones. Art. 9 The "
             "landlord may enter the flat at any time without notice. Art. 12 Deposit: three months' rent.")
    judged = scored("Summarise these clauses in plain language and flag anything unusual or unfavourable for "
                    "us as tenants:\n\n" + lease)
    assert (judged.task_type, judged.tier) == ("document_summary", "balanced"), judged.reason
    plain = scored("Summarise these clauses in plain language for my mum:\n\n" + lease)
    assert plain.tier == "fast", plain.reason


def test_a_summary_asked_on_its_own_line_reads_a_pasted_log_as_material() -> None:
    log = "\n".join(f"May 21 03:{m:02d}:44 nas kernel: ata4: hard resetting link; SATA link up 3.0 Gbps, "
                    f"systemd restarted the zfs scrub thread on the kernel driver" for m in range(12))
    for ask in ("What happened here? Short summary + likely root cause please.\n\n" + log,
                log + "\n\nCan you give me a short summary of this?"):
        got = scored(ask)
        assert (got.task_type, got.tier) == ("document_summary", "balanced"), got.reason
    # Without the summary line the same log asks nothing of the kind: a diagnosis of the kernel log.
    assert scored("Why does this keep happening?\n\n" + log).task_type != "document_summary"
    # And a JSON "summary" of the log's counts is an extraction, not a summary.
    counts = scored("From these logs, produce a JSON summary: count of resets per port and the top 3 "
                    "times.\n\n" + log)
    assert counts.task_type != "document_summary", counts.reason


_BEES = ("can you make this sound more academic: 'we looked at bees in 12 fields and there were way "
         "more of them where there were lots of different flowers around'")


def test_fields_alone_are_no_extraction_and_make_this_sound_is_a_rewrite() -> None:
    got = scored(_BEES)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason
    pulled = scored("Pull the fields name, email and phone out of this signature as JSON: Ana Ruiz, "
                    "ana@example.com, +34 600 123 456")
    assert pulled.task_type == "extraction", pulled.reason


def test_a_follow_up_does_not_continue_a_hard_kind_from_one_word_of_a_clearly_cheap_ask() -> None:
    got = scored("good but a bit less stiff, and say wild bees specifically", context=_BEES)
    assert got.task_type not in scorer_module.HARD and got.tier == "fast", got.reason
    # A follow-up to a clear maths ask still continues it.
    jacket = "A jacket costs 80 euros and is reduced by 25%, then by another 10%. How much does it cost now?"
    sums = scored("and if it's 15 per cent?", context=jacket)
    assert sums.task_type == "math", sums.reason


def test_sum_this_up_above_a_short_news_item_with_figures_is_a_plain_summary() -> None:
    news = ("The city council on Tuesday approved a GBP 2.3 million plan to add protected cycle lanes "
            "along Mill Lane, despite objections from some business owners who fear the loss of 40 parking "
            "spaces. Works start in September and last five months. A consultation last year found 58% of "
            "respondents in favour; the council says the lanes will cut car trips by 12% in two years.")
    got = scored("sum this up in one sentence:\n\n" + news)
    assert (got.task_type, got.tier) == ("document_summary", "fast"), got.reason


@pytest.mark.parametrize("prompt", [
    "I'm hiring a part-time counter assistant and I'm terrible at interviews. you be the candidate "
    "(make up a background, 19, a bit nervous) and I'll practise interviewing you. I'll start: hello",
    "I need to practise handling angry customers. You're the IT lead at a customer whose API calls failed "
    "for an hour during their board demo. Be annoyed but realistic. I'll respond as our support engineer.",
    "be a contest station in japan (JA1ZZZ) and run a mock CQ WW SSB exchange with me so i can practise. "
    "throw in some QRM and a callsign repeat request",
    "日本語の練習をしたいです。あなたはコンビニの店員になってください。簡単な日本語で話してください。私はお客さんです。",
    'Kannst du mir einen kurzen Aufsatz (ca. 200 Wörter) schreiben zum Thema "Sollten Handys in der Schule '
    'verboten werden?" Mit Pro und Contra und am Schluss meine eigene Meinung.',
])
def test_a_role_to_play_or_a_school_essay_is_a_writing_ask(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


@pytest.mark.parametrize("prompt", ["who came up with the central limit theorem",
                                    "Who proved Fermat's last theorem?"])
def test_who_found_a_theorem_is_a_fact_about_it_not_a_problem_in_it(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("question_answer", "fast"), got.reason


def test_a_question_in_a_theorem_is_still_maths() -> None:
    got = scored("Use the central limit theorem: 100 dice are rolled, what is the chance the sum tops 380?")
    assert got.task_type == "math" and got.tier == "deep", got.reason


def test_a_translation_asked_exactly_of_an_official_letter_needs_precision() -> None:
    letter = ("Sehr geehrte Damen und Herren, nach den uns vorliegenden Informationen haben Sie im Zeitraum "
              "vom 22.11. bis 23.12.2024 Backwaren verkauft. Bitte reichen Sie die Umsatzsteuererklärung "
              "bis zum 31.03.2025 ein. Andernfalls wird ein Verspätungszuschlag festgesetzt.")
    careful = scored("please translate this letter from the tax office properly, every sentence, I need "
                     "to know exactly what they want and by when:\n\n" + letter)
    assert careful.tier == "balanced" and "precision" in careful.reason, careful.reason
    assert scored("translate this into English for me:\n\n" + letter).tier == "fast"


def test_what_does_it_say_about_text_in_another_script_is_a_translation_ask() -> None:
    letter = ("Дорогая Катюша, поздравляю тебя! Бабушка очень гордится тобой. Забывай надевать шапку "
              "никогда, на улице холодно. Целую, жду тебя на каникулах.")
    got = scored(f"my grandma sent this, what does it say? '{letter}'")
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_an_indented_python_function_is_plainly_code() -> None:
    source = "def load(path):\n    f = open(path)\n    rows = [r.split(',') for r in f]\n    return rows\n"
    assert scorer_module._code_shape(source) == scorer_module.SHAPES_ENOUGH
    # A heading with a parenthesis and a colon, or "return" in a sentence, is no Python.
    assert scorer_module._code_shape("notes (draft):\nwe return to this on monday\n") == 0


@pytest.mark.parametrize("prompt", [
    "I roll a fair die until I see a six. On average, how many rolls is that, and what is the chance it "
    "takes more than ten?",
    "We draw cards from a shuffled deck until the first ace appears. What is the expected number of draws?",
])
def test_a_random_process_run_until_something_happens_is_a_hard_probability(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("math", "deep"), got.reason
    assert "stopping time" in got.reason


def test_a_rewrite_of_an_earlier_translation_is_judged_as_that_translation() -> None:
    context = ("translate into Polish: 'Dear doctor, my partner's grandmother has an appointment on Tuesday. "
               "Can we bring the results of her blood test on the day, or should we send them earlier?'")
    ask = ("hmm my partner says that opening sounds weird for a doctor. can you make it properly formal, "
           "like you'd actually write to a doctor in Poland? the doctor is a woman btw, dr Nowak")
    got = scored(ask, context=context)
    assert got.tier == "balanced" and "precision" in got.reason, got.reason
    # The same ask about an e-mail written in English is a plain rewrite.
    assert scored(ask, context="write a short e-mail to my doctor about moving my appointment").tier == "fast"


@pytest.mark.parametrize(("prompt", "tier"), [
    ("cheers, moving the CallDeferred outside the lock was it. you're a lifesaver", "fast"),
    ("perfect, that fixed the deadlock, thank you so much", "fast"),
    # thanks that go on to ask for more continue the conversation
    ("thanks! now can you make it lock-free as well", "deep"),
])
def test_thanks_that_ask_nothing_more_close_a_hard_conversation(prompt: str, tier: str) -> None:
    context = ("my C# game freezes randomly when chunks load. the worker thread takes _chunkLock, generates "
               "voxels, then calls CallDeferred(AddChunk) while still holding the lock; AddChunk also locks "
               "_chunkLock on the main thread. sometimes the whole thing hangs. is it a deadlock?")
    got = scored(prompt, context=context)
    assert got.tier == tier, got.reason


@pytest.mark.parametrize(("prompt", "task_type"), [
    ("Mi scrivi un breve annuncio per Facebook? Cerchiamo volontari per il sabato mattina al banco "
     "alimentare, tono amichevole, niente di troppo formale. Massimo 80 parole.", "creative_writing"),
    ("Udawaj, że jesteś nowym wolontariuszem, który pierwszy raz przychodzi do naszego biura i jest trochę "
     "zagubiony. Ja będę koordynatorką i cię oprowadzę. Zacznij ty.", "creative_writing"),
    ("다음 문장을 영어로 번역해 주세요: '이 모드는 게임의 저장 파일을 직접 "
     "수정하므로, 설치하기 전에 반드시 백업하세요.'", "creative_writing"),
    ("resume este correo en dos frases, por favor: 'Hola a todos: os escribo para recordaros que la recogida "
     "de alimentos será el sábado de 10 a 14 h. Necesitamos al menos seis personas por turno.'",
     "document_summary"),
])
def test_writing_roleplay_translation_summary_asks_in_more_languages(prompt: str, task_type: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == (task_type, "fast"), got.reason


@pytest.mark.parametrize("language", ["Welsh", "Basque", "Tagalog", "Tamil"])
def test_a_translation_into_a_less_resourced_language_needs_precision(language: str) -> None:
    got = scored(f"can you translate this into {language} for our welcome leaflet? 'Welcome! Our volunteers "
                 "can help you with forms, English classes and registering with a doctor. It is free.'")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "Be my rubber duck: I'll walk you through my deploy script and you only ask short questions.",
    "You're the receptionist at a small hotel in Lisbon and I'm a guest who lost their key. Start.",
    "Be Napoleon and tell my class why you invaded Russia, in the first person.",
    "On fait un jeu de rôle : tu es le boulanger et moi je commande du pain, en français facile.",
    "Du bist ein mürrischer Zwerg in einer Taverne. Ich komme herein und frage nach dem Weg.",
    "Draft a message to the parents' group saying the football practice moves to 17:30 next week.",
    "Write a 3-sentence note thanking our volunteers for Saturday's clean-up.",
    "Compose a short announcement for the office: the coffee machine is fixed.",
])
def test_a_persona_or_a_text_to_write_is_role_play_or_writing_for_a_small_model(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


@pytest.mark.parametrize(("prompt", "task_type"), [
    # A program's parts are not a text to write.
    ("Write a POST handler in Flask that validates the JSON body and stores it in SQLite.", "code"),
    # "You're right" and "you're the expert" are no roles to play.
    ("You're the expert: why does my mutex deadlock when I lock it twice in the same goroutine?", "code"),
    ("Be careful: is this singleton thread-safe when two threads call get_instance at the same time?",
     "code"),
    # A problem in costume: the quantities decide.
    ("Be my tutor: a train leaves at 3pm going 60 mph, another at 4pm going 80 mph. When does the "
     "second one catch up?", "math"),
])
def test_a_persona_or_writing_verb_does_not_hide_a_hard_ask(prompt: str, task_type: str) -> None:
    got = scored(prompt)
    assert got.task_type == task_type and got.tier != "fast", got.reason


def test_a_system_prompt_that_sets_up_the_model_is_no_role_play() -> None:
    # "You are a coding assistant" in the context: the follow-up still continues the code ask.
    got = scored("now add tests for it, edge cases too",
                 context="You are a coding assistant.\nWrite a Python function that merges overlapping "
                         "intervals.")
    assert got.task_type == "code" and got.tier != "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "Plan the migration of our Postgres 12 cluster to Kubernetes with zero downtime and a rollback path.",
    "Design a sharding scheme for our Redis cache so a node loss drops no sessions.",
])
def test_a_short_plan_or_design_ask_about_code_is_no_one_line_how_to(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "code" and got.tier != "fast", got.reason
    assert "one-line how-to" not in got.reason


@pytest.mark.parametrize("prompt", [
    "my daughter thinks it's colder in winter because we are further from the sun. what's the real reason, "
    "explained so a 9 year old gets it?",
    "My grandpa keeps asking what the cloud actually is, he thinks it is one big computer somewhere. "
    "How do I explain it to him?",
])
def test_an_explanation_for_a_child_or_a_parent_is_not_biased_up(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "biased up" not in got.reason, got.reason


_LIBRARY = ("A library has 5 shelves with 36 books each. 2/3 of the books are lent out and a quarter of the "
            "rest are being repaired. How many books are on the shelves?")
_ISLAND = ("on an island knights always tell the truth and knaves always lie. A says 'B is a knave'. B says "
           "'A and I are the same kind'. Who is a knight and who is a knave? Explain your reasoning.")


@pytest.mark.parametrize(("adult", "child"), [
    (_LIBRARY, "my son's homework (grade 5): " + _LIBRARY),
    (_ISLAND, "Puzzle from my daughter's book: " + _ISLAND),
])
def test_school_maths_and_logic_for_a_child_is_a_mid_models_job(adult: str, child: str) -> None:
    grown, school = scored(adult), scored(child)
    assert grown.tier == "deep", grown.reason
    assert school.task_type == grown.task_type and school.tier == "balanced", school.reason
    # ("my son's homework" is also the asker's own problem: its many figures make one point, not two)
    assert "school level" in school.reason or school.difficulty < grown.difficulty


def test_a_grown_up_childs_hard_maths_is_no_school_maths() -> None:
    phd = scored("my son is doing a PhD in topology: prove that every compact metric space is separable")
    assert phd.tier == "deep", phd.reason


@pytest.mark.parametrize("prompt", [
    "write a webhook receiver that verifies the HMAC signature",
    "write a job runner that retries failed jobs with exponential backoff",
    "make a CLI in Go that tails a file and highlights ERROR lines",
    "write a Prometheus alert rule for when disk usage goes above 90% for 10 minutes",
])
def test_short_asks_to_write_a_program_are_code_not_small_talk_or_a_lookup(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "code" and got.tier != "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "plan my Thursday: staff induction 9-11, dentist at 2, and 3 hours of tax paperwork before 6",
    "is an induction hob cheaper to run than gas if we cook twice a day?",
    "can you demonstrate how to use rsync to copy my photos to the NAS?",
    "where does the word salary derive from?",
    "is there a contradiction between these two statements from my landlord?",
])
def test_proof_words_in_their_everyday_sense_ask_for_no_proof(prompt: str) -> None:
    got = scored(prompt, detail=True)
    assert "prove" not in dict(got.signals) and got.tier != "deep", got.reason


@pytest.mark.parametrize("prompt", [
    "Show by induction that n^3 - n is divisible by 6 for every natural n",
    "use induction on the height of the tree to bound its number of leaves",
    "demonstrate that the square root of 2 is irrational",
    "derive the closed form of the recurrence T(n) = 2T(n/2) + n",
    "assume there are finitely many primes and derive a contradiction",
])
def test_proof_words_in_a_proof_still_ask_for_one(prompt: str) -> None:
    got = scored(prompt, detail=True)
    assert "prove" in dict(got.signals) and got.tier == "deep", got.reason


@pytest.mark.parametrize("prompt", [
    "what's a good TV series to watch with my teenage kids?",
    "what's the speed limit on a UK motorway for a van?",
    "what's the probability of rain tomorrow in Leeds?",
    "my MacBook logic board died, is it worth repairing?",
    "what's the chess opening everyone plays for beginners?",
    "why is there so much wealth inequality in the UK?",
    "how do I set up a Matrix Synapse server behind my nginx reverse proxy?",
])
def test_maths_and_puzzle_words_in_their_everyday_sense_are_no_maths(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type not in ("math", "reasoning") and got.tier == "fast", got.reason


@pytest.mark.parametrize(("prompt", "task_type"), [
    ("is the series 1 + 1/4 + 1/9 + ... convergent, and what is its limit?", "math"),
    ("what's the probability of rolling two sixes with two dice?", "math"),
    ("what is the limit of the integral of sin(x)/x from 0 to t as t grows?", "math"),
    ("what's the next term in the sequence 2, 6, 12, 20, 30?", "reasoning"),
])
def test_the_same_words_beside_figures_or_other_maths_are_maths(prompt: str, task_type: str) -> None:
    got = scored(prompt)
    assert got.task_type == task_type and got.tier != "fast", got.reason


_VENT = ("honestly I'm so tired today, the baby was up all night and I've got a whole day of meetings "
         "ahead of me. any tips for getting through it without drinking too much coffee?")


@pytest.mark.parametrize("prompt", [
    _VENT,
    "Je suis vraiment fatiguée ce soir et mes enfants ne veulent pas dormir. Tu peux me raconter une petite "
    "blague pour me remonter le moral avant que je retourne les coucher ?",
])
def test_everyday_talk_about_feelings_and_family_is_not_biased_up(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "everyday talk" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    _VENT.replace("coffee?", "coffee? I'm on 20 mg of sertraline."),  # a dose
    _VENT.replace("any tips", "I've slept 7 hours in the last 3 nights, any tips"),  # a sum in the figures
    _VENT.replace("any tips", "my doctor says it's normal, but any tips"),  # health at stake
    "my dog ate some grapes about an hour ago while we were cooking dinner, he seems fine and is wagging his "
    "tail, should I be worried or is it ok to wait and see?",
    "Trois amis, Paul, Marie et Luc, ont chacun un animal différent : chat, chien, poisson. Paul n'a pas de "
    "chat. Marie a un chien. Qui a quoi ? Explique-moi comment tu fais, c'est pour mes enfants.",
    "Three friends, Paul, Mary and Luke, each have a different pet: cat, dog, fish. Paul has no cat. Mary "
    "has a dog. Who has what? Explain how you work it out, it is for my kids.",
])
def test_everyday_words_beside_figures_stakes_or_a_puzzle_stay_biased_up(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier != "fast" and "everyday talk" not in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "set up tailscale on my synology so I can reach it from my phone",
    "install jellyfin on my NAS",
    "configure the fritzbox to hand out the pi-hole as DNS",
])
def test_a_short_instruction_is_an_ask_not_small_talk(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "question_answer" and got.tier == "fast", got.reason


def test_small_talk_without_an_ask_stays_small_talk() -> None:
    assert scored("morning! hope your weekend was good").task_type == "casual_chat"


def test_a_short_summary_ask_with_its_material_after_a_colon_is_a_summary_for_a_small_model() -> None:
    got = scored("summarise this: Proxmox VE 8.2 adds an import wizard for VMware ESXi VMs, automated "
                 "installs, and a backup fleecing option that reduces the impact of backups on VMs.")
    assert got.task_type == "document_summary" and got.tier == "fast", got.reason


def test_a_short_summary_of_a_hard_mechanism_is_still_not_for_the_smallest() -> None:
    got = scored("Summarise: the deadlock happens because thread A holds the lock while calling B, "
                 "which waits on A.")
    assert got.task_type == "document_summary" and got.tier == "balanced", got.reason


@pytest.mark.parametrize("prompt", [
    "A rectangle has a perimeter of 40 cm and an area of 96 cm². What are its dimensions?",
    "Un rectángulo tiene un perímetro de 40 cm y un área de 96 cm². ¿Cuáles son sus dimensiones?",
    "The sum of two numbers is 42 and their difference is 8. Find them.",
])
def test_several_unknowns_from_two_givens_are_no_one_step_sum(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "math" and got.tier == "balanced", got.reason


def test_dimensions_to_look_up_are_a_lookup() -> None:
    assert scored("what are the dimensions of an A4 sheet?").tier == "fast"


@pytest.mark.parametrize("prompt", [
    "Make this less passive-aggressive please, it's to the neighbours about the hedge. I'm annoyed but I "
    "want to stay on good terms.\n\n\"Hi both, as I'm sure you've noticed, the hedge has grown again.\"",
    "make it a bit shorter and add a line about the quiz night on 14 march, tickets £5",
])
def test_make_this_less_or_shorter_is_a_rewrite(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_make_it_more_of_something_in_code_is_still_code() -> None:
    got = scored("make it more pythonic: result = []\nfor i in range(len(items)):\n"
                 "    result.append(items[i] * 2)")
    assert got.task_type == "code", got.reason


@pytest.mark.parametrize("prompt", [
    "I want to practise for my oral exam. You are a waiter in a restaurant in Madrid and I am the customer. "
    "Speak only Spanish and correct my mistakes at the end. You start!",
    "quiero practicar para mi examen oral de español. tú eres un camarero en un restaurante en Madrid y yo "
    "soy la clienta. habla solo en español y corrígeme los errores al final, no durante. empieza tú!",
])
def test_a_role_for_each_side_anywhere_in_the_ask_is_role_play(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_you_are_the_expert_and_i_am_the_newbie_is_no_role_play() -> None:
    got = scored("you are the expert and I am the newbie here, so how do I configure VLANs on my switch "
                 "for IoT and guest networks?")
    assert got.task_type != "creative_writing", got.reason


def test_a_reply_to_write_in_another_language_is_writing() -> None:
    got = scored("Kannst du mir helfen, auf diese Mail von meinem Radsportfreund Matthias zu antworten? "
                 "Auf Deutsch bitte, locker. Ich möchte sagen: ja, ich komme mit, aber nur die 120km-Runde, "
                 "nicht die 180km, und ich bringe mein eigenes Rad mit dem Zug mit.")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "whats the difference between RAM and storage?? my friend says her laptop has 16 gigs so its better "
    "than mine with 512 but that doesnt make sense",
    "Quelle est la différence entre une SARL et une SAS ? Je voudrais me lancer comme développeur "
    "indépendant l'année prochaine et je ne sais pas quoi choisir.",
])
def test_a_difference_to_look_up_is_not_biased_up(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "a difference to look up" in got.reason, got.reason


def test_a_difference_with_something_at_stake_stays_biased_up() -> None:
    got = scored("what's the difference between ibuprofen and paracetamol? my dad is on blood thinners "
                 "after his heart operation and has a really bad back this week, which one is safer for him "
                 "to take?")
    assert got.tier == "balanced" and "unsure, biased up" in got.reason, got.reason


def test_everyday_talk_with_a_decade_in_it_is_still_everyday_talk() -> None:
    got = scored("rainy sunday, the kids are at their grandma's and I'm honestly a bit bored. tell me "
                 "something fun about how people used to holiday at the seaside back in the 1920s, before "
                 "cheap flights")
    assert got.tier == "fast" and "everyday talk" in got.reason, got.reason


def test_a_difference_asked_a_few_words_into_the_ask_is_a_lookup_too() -> None:
    got = scored("¿me puedes explicar la diferencia entre por y para con ejemplos? siempre me confundo "
                 "cuando escribo correos a mis compañeros de trabajo y me da un poco de vergüenza")
    assert got.tier == "fast" and "a difference to look up" in got.reason, got.reason


_TICKETS = "{} train ticket is 4.20 each way and {} 3 days a week. How much {} on tickets in a 4-week month?"


def test_one_point_on_the_askers_own_problem_is_a_mid_models_job() -> None:
    own = scored(_TICKETS.format("My", "I commute", "do I spend"))
    textbook = scored(_TICKETS.format("A", "Sam commutes", "does Sam spend"))
    assert textbook.difficulty == own.difficulty == 1
    assert textbook.tier == "deep", textbook.reason
    assert own.tier == "balanced" and "own problem" in own.reason, own.reason


def test_a_second_point_on_the_askers_own_problem_still_goes_deep() -> None:
    got = scored("in my board game each turn I roll two dice; what is the probability that my 3 rolls in "
                 "a row all total at least 9?")
    assert got.difficulty >= 2 and got.tier == "deep", got.reason


@pytest.mark.parametrize("prompt", [
    "write a python script that prints the directory tree of my photos folder with file sizes",
    "my docker container gets a dynamic IP every restart, how do I pin it in docker-compose?",
    "the java heap size of my minecraft server keeps running out, how do I raise it in the systemd unit?",
])
def test_algorithm_words_in_their_homelab_sense_are_no_algorithm(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "code" and got.tier != "deep" and "algorithmic" not in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "solve the knapsack problem with dynamic programming in python",
    "implement a min-heap in rust with push and pop",
    "write a function that finds the longest palindromic substring in O(n^2)",
])
def test_an_algorithm_to_design_is_still_algorithmic(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "code" and got.tier == "deep" and "algorithmic" in got.reason, got.reason


def test_what_does_this_say_above_a_text_in_another_language_is_a_translation_ask() -> None:
    got = scored("what does this say? supplier from bilbao\n\n\"Hola Marta, te confirmo que el pedido de las "
                 "sillas sale de fábrica el jueves. El transporte tarda unos tres días hasta Oporto.\"")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason
    english = scored("what does this mean? \"the tenant shall keep the premises in good repair and condition "
                     "throughout the term\"")
    assert english.task_type == "question_answer", english.reason


def test_the_average_of_a_short_list_is_one_operation_but_a_missing_score_is_a_word_problem() -> None:
    assert scored("quick: what's the average of 14, 9, 27, 31 and 8?").tier == "fast"
    missing = scored("The average of four rents is 950. Three of them are 900, 1,020 and 880. "
                     "What is the fourth?")
    assert missing.task_type == "math" and missing.tier != "fast", missing.reason


@pytest.mark.parametrize("prompt", [
    "we have a water leak under the kitchen sink and the landlord isn't answering, who do I call first?",
    "our architecture studio turns ten next month: ideas for a small party at the office for clients?",
    "two concurrent sessions at the conference look good, which one should a junior designer pick?",
])
def test_depth_words_in_their_everyday_sense_make_nothing_harder(prompt: str) -> None:
    got = scored(prompt, detail=True)
    assert "depth" not in dict(got.signals) and got.task_type != "code", got.reason


def test_the_same_depth_words_about_systems_still_count() -> None:
    got = scored("review the architecture of our microservices: 12 services share one postgres database")
    assert got.task_type == "code" and "depth" in got.reason and got.tier == "deep", got.reason


_HAGGLE = ("You are role-playing Marta, who sells second-hand bikes at a market stall. Stay in character.\n"
           "I like the blue road bike. You ask 240 for it, would you take 180?\n"
           "Ah, 180 is too low, it has new tyres! For you, 220, and I throw in the lights.")


def test_a_move_with_prices_in_a_role_play_is_role_play_not_a_sum() -> None:
    got = scored("220 is still a lot for me. What if I pay 200 in cash today and take the old helmet "
                 "too?", context=_HAGGLE)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_maths_question_inside_a_role_play_is_still_maths() -> None:
    got = scored("out of character for a second: if I pay 200 now and 20 a week, how many weeks until 340 is "
                 "paid off?", context=_HAGGLE)
    assert got.task_type == "math", got.reason


_FUEL = ("{} car does 6.5 litres per 100 km. {} trip is 430 km each way, fuel is 1.79 per litre, and {} "
         "split the cost 3 ways. How much does each of {} pay?")


def test_many_figures_in_the_askers_own_problem_are_still_one_point() -> None:
    own = scored(_FUEL.format("My", "Our", "we", "us"))
    textbook = scored(_FUEL.format("A", "The", "three friends", "them"))
    assert textbook.difficulty == 2 and textbook.tier == "deep", textbook.reason
    assert own.difficulty == 1 and own.tier == "balanced", own.reason


@pytest.mark.parametrize("prompt", [
    "¿Cómo cambio el puerto de SSH en Debian?",
    "Wie lösche ich alle gestoppten Docker-Container auf einmal?",
    # and in any other language but Chinese and Japanese
    "python 리스트 정렬 방법",
    "miten poistan git-haaran myös palvelimelta",
    "як в bash дізнатися розмір папки",
])
def test_a_one_line_how_to_in_another_language_is_a_lookup(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "one-line how-to" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "Écris une fonction Python qui fusionne deux listes triées sans utiliser sort.",
    "Schreib mir ein Bash-Skript, das jede Nacht meine Datenbank sichert.",
    "如何在 Debian 上更改 SSH 端口",
])
def test_code_to_write_or_a_how_to_in_another_script_is_no_lookup(prompt: str) -> None:
    got = scored(prompt)
    assert "one-line how-to" not in got.reason, got.reason


def test_punctuation_outside_ascii_does_not_hide_a_word() -> None:
    """"¿cuánto" is "cuánto": an inverted question mark, guillemets or curly quotes stuck to a word
    hid it from the vocabulary."""
    got = scored("Una manguera llena la piscina en 6 horas y otra en 9. Si usamos las dos a la vez, "
                 "¿cuánto tardan en llenarla?")
    assert got.task_type == "math" and got.tier != "fast", got.reason
    assert scored("«Écris une fonction» qui trie une liste, s\u2019il te plaît").task_type == "code"


@pytest.mark.parametrize(("prompt", "task_type"), [
    ("python one liner to delete empty folders recursively under /srv/media", "code"),
    ("chmod this directory recursive so the jellyfin user can read it", "code"),
])
def test_a_recursive_chmod_or_delete_is_no_algorithm(prompt: str, task_type: str) -> None:
    got = scored(prompt)
    assert got.task_type == task_type and got.tier != "deep" and "algorithmic" not in got.reason, got.reason


def test_a_pasted_summary_is_material_not_an_ask_for_one() -> None:
    got = scored("proxmox backup job summary below, which VM failed and should I worry?\n\n"
                 "VMID  NAME       STATUS  TIME   SIZE\n100   nextcloud  OK      04:12  38.2G\n"
                 "101   immich     OK      09:55  211.0G\n102   pihole     ERROR   00:03  0\n"
                 "103   jellyfin   OK      01:20  4.1G\n104   gitea      OK      00:45  2.2G")
    assert got.task_type != "document_summary", got.reason


@pytest.mark.parametrize("prompt", [
    "make this slack msg friendlier but still firm: 'Do NOT push to main without a PR. Terraform state "
    "broke again because someone ran apply from their laptop.'",
    "write the label for the jar of rhubarb chutney we are giving the neighbours, something warm and funny",
])
def test_a_tone_to_change_or_a_label_to_write_is_writing_even_beside_code_words(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "write a label selector for my kubernetes deployment",
    "make it more pythonic: result = []\nfor i in range(10):\n    result.append(i * 2)",
])
def test_code_with_a_label_or_a_comparative_is_still_code(prompt: str) -> None:
    assert scored(prompt).task_type == "code"


@pytest.mark.parametrize("prompt", [
    "Spiel bitte meinen Chef, der die Gehaltserhöhung ablehnen will. Ich übe das Gespräch.",
    "Joue le rôle d'un douanier grincheux, je passe la frontière avec trop de fromage.",
])
def test_a_persona_to_play_in_german_or_french_is_role_play(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "is binary search O(log n)?",
    "is a mutex the same as a semaphore?",
    "does python have tail call optimisation?",
])
def test_a_yes_no_concept_question_with_no_code_is_never_deep(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "code" and got.tier != "deep" and "concept question" in got.reason, got.reason


_PGN = ('[Event "Club blitz"]\n[Site "Leeds"]\n[Date "2025.02.11"]\n[White "Ana"]\n[Black "Tomasz"]\n'
        '[Result "0-1"]\n[WhiteElo "1420"]\n[BlackElo "1505"]\n[ECO "C50"]\n[Opening "Italian Game"]\n')


def test_fields_out_of_lines_that_name_them_are_copying_not_several_fields() -> None:
    tagged = scored("give me white, black, both ratings, result, ECO and opening as one csv line\n\n" + _PGN)
    prose = scored("give me white, black, both ratings, result, ECO and opening as one csv line\n\n"
                   "Ana (1420) had White against Tomasz (1505) at the Leeds club blitz on 11 February 2025; "
                   "he won with Black out of an Italian Game, ECO C50, after she blundered a rook late.")
    assert "several fields" not in tagged.reason and tagged.tier != "deep", tagged.reason
    assert "several fields" in prose.reason, prose.reason


def test_nervous_in_german_is_everyday_talk() -> None:
    got = scored("Guten Abend! Kannst du mich ein bisschen aufbauen? Morgen früh habe ich die "
                 "Führerscheinprüfung und bin total nervös, obwohl ich gut vorbereitet bin.")
    assert got.tier == "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "Plan a 90-minute workshop for 6 volunteers next Saturday, with a tea break.",
    "You are a plumber who is 2 hours late for the 9am job. I am the annoyed customer, start.",
])
def test_a_few_figures_with_units_and_nothing_asked_of_them_are_no_sum(prompt: str) -> None:
    assert scored(prompt).task_type != "math", scored(prompt).reason


@pytest.mark.parametrize("prompt", [
    "I ran 5 km in 27 minutes. What was my pace per km?",
    "walked 3 km in 40 minutes, how far do I get in 2 hours at that speed",
])
def test_a_few_figures_with_units_and_a_quantity_asked_are_still_a_sum(prompt: str) -> None:
    assert scored(prompt).task_type == "math", scored(prompt).reason


def test_a_file_extension_is_no_format_to_extract_into() -> None:
    got = scored("write a python script that reads orders.csv (columns: id, customer, city, total, date) and "
                 "prints each city's total for last month, largest first")
    assert (got.task_type, got.tier) == ("code", "balanced"), got.reason
    # A format named as a word is still asked for.
    got = scored("extract name, email, phone and company from this signature as json: Jo Bloggs, ACME Ltd, "
                 "jo@acme.example, 0161 496 0000")
    assert got.task_type == "extraction", got.reason


@pytest.mark.parametrize("prompt", [
    "what's the tracking number in this? 'Hi Sam, your parcel (DPD 15501234567890) left our depot at 07:12 "
    "and should arrive between 10:00 and 11:00 tomorrow. Reply STOP to opt out of these messages please.'",
    "what is the due date in this: 'Invoice 2024-118 from Greenfield Gardening for hedge trimming and the "
    "removal of garden waste, payment due 14 March 2025 by bank transfer, quoting the invoice number.'",
])
def test_one_value_to_read_off_a_short_text_is_not_biased_up(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "one value" in got.reason, got.reason


def test_one_value_with_something_at_stake_is_still_biased_up() -> None:
    got = scored("what's the dose in this? 'Give 2.5 ml every 6 hours, no more than 4 doses in 24 hours, "
                 "for children 2-4 years. Do not use with other paracetamol products.' "
                 "my son is 3 and has a fever")
    assert got.tier == "balanced", got.reason


@pytest.mark.parametrize("prompt", [
    "How long should a sprint review for 5 people take, honestly?",
    "how many hours should a 14 year old sleep on school nights",
])
def test_how_long_or_many_should_with_no_data_is_advice_not_a_word_problem(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type != "math", got.reason


def test_how_much_should_with_figures_to_work_from_is_still_a_word_problem() -> None:
    got = scored("Flour is 18.40 for a 16 kg sack and one loaf uses 520 g. How much should I charge per loaf "
                 "for a 60% margin?")
    assert got.task_type == "math", got.reason


@pytest.mark.parametrize("prompt", [
    "I want my Proxmox host to back up the Home Assistant VM to the NAS every night at 2, keep 7, and "
    "send me an email if it fails. What do I set up?",
    "Need a Google Apps Script for the orders sheet: when I edit column F to 'SHIP', copy the row to the "
    "'Shipped' tab with today's date, and never copy the same row twice.",
])
def test_a_writing_word_in_its_everyday_sense_beside_a_technical_subject_is_no_writing(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type not in ("creative_writing", "casual_chat") and got.tier != "fast", got.reason


def test_an_email_to_write_is_still_writing() -> None:
    got = scored("write an email to my landlord: the boiler broke on the 3rd, it's the 12th, 2 kids at home")
    assert got.task_type == "creative_writing", got.reason


def test_one_weak_word_of_a_follow_up_does_not_change_the_conversations_hard_kind() -> None:
    context = ("Extract every person, company and city in this article as JSON, grouped by type: "
               "Yesterday Ana Ruiz, CEO of Brightwave, and Tom Lee of Kestrel Labs announced a joint plant "
               "in Lyon, with backing from the mayor, Paul Girard, and the Rhône region.")
    got = scored("Now make the JSON object shorter: replace each value with its first letter, one line.",
                 context=context)
    assert got.task_type == "extraction", got.reason


_DEGRADED = ("zpool status shows my mirror DEGRADED, one disk FAULTED with 3 write errors. How do I swap "
             "in the spare without losing the VMs on Proxmox?")


@pytest.mark.parametrize("thanks", [
    "rebuilt overnight, all green. merci beaucoup, you saved my weekend!!",
    "ok the container starts and the logs are clean, thanks a lot",
])
def test_thanks_after_a_report_closes_a_hard_conversation(thanks: str) -> None:
    got = scored(thanks, context=_DEGRADED)
    assert got.tier == "fast", got.reason


def test_a_report_with_thanks_and_a_new_ask_is_not_closing() -> None:
    got = scored("it resilvered, thanks! now how do I set up a weekly scrub with a cron job",
                 context=_DEGRADED)
    assert got.tier != "fast", got.reason


def test_an_everyday_writing_word_in_a_how_to_is_no_writing() -> None:
    got = scored("how do I get an email when the nightly backup fails?")
    assert got.task_type == "question_answer", got.reason


@pytest.mark.parametrize("prompt", [
    "écris un script python qui lit le CSV des ventes (colonnes date;produit;montant) et affiche le total "
    "par mois",
    "write a bash script that reads the CSV export of my router's traffic log and prints the top 5 hosts",
])
def test_a_program_to_write_that_reads_a_format_is_code(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("code", "balanced"), got.reason


@pytest.mark.parametrize("prompt", [
    "how do I keep sourdough starter alive on holiday? my neighbour swears by the fridge method",
    "is there a quieter way to get to terminal 2 at Heathrow with two kids and a buggy, without the tube?",
])
def test_one_code_word_in_its_everyday_sense_is_no_code(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type != "code", got.reason


def test_one_code_word_beside_a_technical_subject_is_still_code() -> None:
    got = scored("why does my python class lose its attribute after pickling?")
    assert got.task_type == "code", got.reason


@pytest.mark.parametrize("prompt", [
    "actúa como un vecino que se queja del ruido de mi perro, yo practico cómo responder con calma",
    "fais comme si tu étais mon propriétaire et je te demande de réparer la chaudière",
    "atue como um cliente irritado com o atraso da encomenda, eu sou a atendente",
])
def test_a_persona_to_play_in_spanish_french_or_portuguese_is_role_play(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_a_text_to_rewrite_is_material_not_a_word_problem() -> None:
    got = scored("rewrite this so it sounds calmer: 'This is the 3rd time I've asked. You promised delivery "
                 "on the 5th, it's the 19th. If I don't have the 4 chairs by Friday I cancel it all.'")
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_code_to_rewrite_is_still_code() -> None:
    got = scored("rewrite this so it runs in one pass:\n\ndef stats(xs):\n    lo = min(xs)\n"
                 "    hi = max(xs)\n    return lo, hi, sum(xs) / len(xs)")
    assert got.task_type == "code", got.reason


@pytest.mark.parametrize("prompt", [
    "help me reply to this tripadvisor review, 2 stars: 'Lovely views but we waited 40 minutes for the soup "
    "and nobody said sorry.' we were short-staffed that night. friendly, no excuses",
    "how should I respond to my landlord's email? he wants to raise the rent by 80 a month from june and I "
    "think that's too much after the boiler saga",
])
def test_a_reply_to_a_review_or_email_is_writing(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_a_cv_full_of_code_words_to_translate_into_a_language_is_translation() -> None:
    got = scored("translate my CV bullets into German, keep them short:\n- Built a Python/pandas "
                 "dashboard for a bakery\n- Wrote a Rust CLI that parses camera logs\n- Set up Docker and "
                 "Grafana monitoring")
    assert got.task_type != "code" and got.tier != "deep", got.reason


def test_a_one_line_how_to_export_to_a_format_is_a_lookup() -> None:
    got = scored("how do I export my shopify orders to a csv?")
    assert got.tier == "fast" and "one-line how-to" in got.reason, got.reason
    # Fields to pull out of a text are still an extraction.
    got = scored("pull name, date and total out of this receipt as csv: Lidl 12/05 total 9.83 Sam")
    assert got.tier != "fast", got.reason


def test_a_seating_puzzle_with_adjacency_rules_is_reasoning() -> None:
    got = scored("Seat 5 guests around a round table: Ann must sit next to Bob, Carl must not sit next to "
                 "Ann, and Dee wants to sit next to Eve. Give me an arrangement.")
    assert got.task_type == "reasoning" and got.tier != "fast", got.reason
    got = scored("we sit next to the window at work, right next to the printer. any tips for the glare?")
    assert got.task_type != "reasoning", got.reason


def test_a_translation_into_verse_needs_care() -> None:
    got = scored("translate this into English verse if you can, it's for my granddaughter: 'Los pollitos "
                 "dicen pío, pío, pío, cuando tienen hambre, cuando tienen frío. La gallina busca el maíz y "
                 "el trigo, les da la comida y les presta abrigo.'")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "pourquoi la mer est salée ? version simple pour un enfant de 6 ans svp, ma petite-fille me l'a demandé "
    "ce matin et je n'ai pas su répondre",
    "erklär mir einfach, was ein Router macht, als wäre ich 80. Mein Enkel hat mir einen neuen "
    "hingestellt und ich nicke immer nur",
])
def test_an_explanation_asked_simply_in_french_or_german_is_not_biased_up(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast", got.reason


def test_a_river_crossing_in_any_guise_is_a_puzzle() -> None:
    got = scored("Nan has to get the cat, the budgie and a bag of seed over the river in a rowing boat "
                 "that takes her and one of them. Left alone, the cat eats the budgie and the budgie eats "
                 "the seed. How does she do it?")
    assert got.task_type == "reasoning" and got.tier != "fast", got.reason


def test_an_olympiad_problem_is_advanced_maths_never_one_step_arithmetic() -> None:
    got = scored("Olympiad question I am stuck on: find all f: Z -> Z with f(m + f(n)) = f(m) + n for all "
                 "integers m and n.")
    assert got.tier != "fast" and "advanced maths" in got.reason, got.reason


@pytest.mark.parametrize(("prompt", "tier"), [
    ("この手紙を英語に訳してください。「先日はありがとうございました。"
     "また会えるのを楽しみにしています。」", "fast"),
    ("次の契約書の条項を、法的に正確な英語に訳してください。専門用語に注意してください。"
     "「甲は乙に対し、本契約に定める業務を委託し、乙はこれを受託する。委託料は別途定める。」", "balanced"),
    ("孫のために、やさしい日本語で短い昔話をお願いします。", "fast"),
    ("Übersetz das bitte ins Englische: 'Wir kommen am Freitag gegen acht, bringen Kuchen mit.'", "fast"),
    ("Formulier das bitte etwas förmlicher: 'Die Pumpe ist wieder kaputt, bitte schnell wen schicken.'",
     "fast"),
    ("Sei ein mürrischer Hausmeister und ich bin die neue Mieterin, die nach dem Fahrradkeller fragt.",
     "fast"),
    ("Erklär mir, wie ein Kühlschrank funktioniert, so dass ich es meiner Tochter (9) erklären kann. "
     "Warum wird es drinnen kalt, wenn hinten das Gitter warm ist?", "fast"),
    ("whats the booking reference in this: 'Dear guest, your room at Hotel Kranz is confirmed, ref KR-88412, "
     "check-in from 15:00, breakfast 7 to 10, see you soon!'", "fast"),
])
def test_german_and_japanese_asks_read_as_their_english_twins(prompt: str, tier: str) -> None:
    got = scored(prompt)
    assert got.tier == tier, got.reason


def test_a_german_olympiad_problem_with_a_proof_is_never_fast() -> None:
    got = scored("Aufgabe aus der Matheolympiade: Finde alle natürlichen Zahlen n, für die n^2 + 2n + 4 "
                 "durch 7 "
                 "teilbar ist. Mit Beweis bitte.")
    assert got.tier != "fast" and ("prove" in got.reason or "advanced maths" in got.reason), got.reason


@pytest.mark.parametrize("prompt", [
    "wie sagt man 'ich habe den Bus verpasst, ich komme zehn Minuten später' auf Französisch? für meine "
    "Lehrerin",
    "auf englisch bitte: 'Die Rechnung geht nächste Woche raus, wir bitten um etwas Geduld.'",
    "how do you say 'could we move the meeting to Thursday afternoon' in polite Japanese?",
])
def test_how_do_you_say_it_in_a_language_is_a_translation(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


@pytest.mark.parametrize("prompt", [
    "write a polite reminder to a tenant whose rent is 45 days late, 1,150 a month, for the flat on Mill "
    "Lane. firm but friendly, they've been good tenants for years",
    "Erste Mahnung schreiben, höflich: Rechnung 2025-014 vom 03.02., 890,00 €, Zahlungsziel 14 Tage, "
    "Kunde Fa. Huber Bau, neue Frist 10 Tage.",
])
def test_a_reminder_to_write_carries_its_figures_it_is_writing(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_what_does_this_mean_in_english_above_a_foreign_text_is_a_translation() -> None:
    got = scored("what does this mean in english: 'Dzień dobry, w piątek nie przyjdę do pracy, mam wizytę u "
                 "lekarza. Przepraszam i pozdrawiam, Kasia.'")
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


@pytest.mark.parametrize("prompt", [
    "You're interviewing me for a barista job, I'm practising for Saturday. One question at a time please, "
    "then tell me what I could do better.",
    "interview me for a junior gardener role, ask one thing at a time and give me feedback at the end",
])
def test_an_interview_to_practise_is_role_play(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_a_note_to_write_in_a_rare_language_needs_care() -> None:
    got = scored("write a short note in Welsh to my son's teacher saying he'll miss Friday for a dentist "
                 "appointment in Cardiff and will catch up on his homework over the weekend")
    assert got.tier == "balanced", got.reason
    assert scored("write a short note to my son's teacher saying he'll miss Friday for the "
                  "dentist").tier == "fast"


def test_the_short_version_of_a_text_is_a_summary() -> None:
    got = scored("can u give me the short version of this from the co-op\n\nDear Member,\nFollowing the "
                 "board "
                 "meeting we wish to inform you that from 1 March the handling fee on grain rises from "
                 "1.5% to "
                 "1.8%, the minimum charge per load from 12 to 15 euro, and the weighbridge closes at 5pm on "
                 "Saturdays instead of 6pm. Members paying by direct debit keep the old rate until June.")
    assert (got.task_type, got.tier) == ("document_summary", "fast"), got.reason


def test_can_you_explain_a_hard_concept_with_no_code_is_a_concept_question() -> None:
    got = scored("Can you explain Fenwick trees properly, including why prefix sums and point updates are "
                 "O(log n)? I get arrays of partial sums but the lowbit trick loses me.")
    assert got.tier == "balanced" and "concept question" in got.reason, got.reason


def test_a_word_problem_told_in_the_first_person_is_the_askers_own() -> None:
    own = scored("I keep 12 goats. Each spring 25% of them have twins and the rest have one kid, and I sell "
                 "half of all kids in autumn. How many goats will I have after 2 years if none die?")
    assert own.tier == "balanced" and "own problem" in own.reason, own.reason
    textbook = scored("A farmer keeps 12 goats. Each spring 25% of them have twins and the rest have "
                      "one kid, "
                      "and half of all kids are sold in autumn. How many goats after 2 years if none die?")
    assert textbook.tier == "deep", textbook.reason


def test_parts_numbered_inline_are_a_multi_part_ask() -> None:
    got = scored("We compare two NAS plans. (1) Put both in a table: price, drives, warranty. (2) "
                 "Compute the "
                 "5-year cost of each if we add 4 TB every year and a drive costs 95.")
    assert "multi-part" in got.reason, got.reason


def test_patch_notes_to_make_sound_less_corporate_are_a_rewrite_not_code() -> None:
    got = scored("rewrite this so it sounds less stiff, it's for our forum:\n\n\"We are pleased to announce "
                 "that version 2.3.1 is now available. This release contains numerous bug fixes and "
                 "performance improvements. We thank our users for their continued feedback.\"")
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_a_korean_text_to_translate_keeping_its_terms_needs_care() -> None:
    got = scored("교재 한 문단인데 원문 용어 살려서 영어로 번역해줘: '인슐린은 세포의 포도당 "
                 "흡수를 촉진하여 혈당을 낮춘다. 속효성 인슐린은 식사 직전에 투여하며, 저혈당 "
                 "증상이 나타나면 즉시 당분을 섭취하도록 교육한다. 투여 부위는 매번 바꾸어 "
                 "지방비대를 예방한다.'")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_fields_of_a_program_to_write_are_its_data_not_an_extraction() -> None:
    got = scored("write a python class that saves the player's settings (volume, language, key bindings) "
                 "to a JSON file with a version field")
    assert got.task_type == "code", got.reason


def test_a_safety_text_to_translate_into_papiamento_needs_care() -> None:
    got = scored("kun je deze instructie in het Papiaments vertalen? het gaat om veiligheid:\n\n"
                 "\"Draag altijd handschoenen bij het schoonmaken van de friteuse en laat de olie eerst "
                 "afkoelen.\"")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "reply to this one pls:\n\n\"Lovely food but the music was far too loud and we couldn't talk. "
    "Two stars.\"",
    "write a short welcome card for the new neighbours, something warm, they have two little kids and a dog",
])
def test_a_reply_or_a_card_to_write_is_writing(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


@pytest.mark.parametrize("prompt", ["20 % de 3 480 ça fait combien ?",
                                    "Rechnung brutto 2 380 €, davon 19 % MwSt, wie viel netto?"])
def test_thousands_with_a_space_are_one_number(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier != "deep", got.reason


def test_a_french_functional_equation_with_a_proof_is_never_fast() -> None:
    got = scored("Trouver toutes les fonctions f : R → R continues telles que f(x+y) = f(x) + f(y) pour tous "
                 "réels x, y. Je veux une preuve complète.")
    assert got.tier != "fast" and "prove" in got.reason, got.reason


def test_a_legal_attestation_to_translate_keeping_its_formulas_needs_care() -> None:
    got = scored("Traduis cette attestation en anglais pour le dossier de visa, garde les formules "
                 "juridiques "
                 "et le même niveau de formalité : « Je soussigné, Paul M., certifie héberger à titre "
                 "gratuit Mme Sara K. à mon domicile du 1er mars au 30 avril. Fait pour servir et valoir "
                 "ce que de droit. »")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_a_paragraph_to_make_sound_more_academic_is_material() -> None:
    got = scored("make this sound more academic pls:\n\n'Loads of surveys ask people how much they "
                 "sleep, and "
                 "people who sleep less than 6 hours say they feel worse, but nobody checks how much they "
                 "really sleep, so 2 or 3 of these studies might be wrong.'")
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_kannst_du_meine_oma_spielen_is_role_play() -> None:
    got = scored("Kannst du meine Oma spielen? Sie ist 79 und fragt immer, was ich eigentlich studiere. "
                 "Ich will üben, es ihr einfach zu erklären. Fang du an.")
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


@pytest.mark.parametrize("prompt", [
    "my sourdough starter finally doubled overnight after two weeks of sulking in the cold kitchen, the "
    "whole flat smells of vinegar and I could not be happier!!",
    "lol the printer in the hallway decided to print 40 blank pages at 3am and woke the whole house, my "
    "partner is convinced it is haunted",
    "Endlich Wochenende 🎉 die ganze Woche nur Meetings gehabt, der Zug am Freitag war auch noch eine "
    "Stunde zu spät, und jetzt liege ich endlich mit Tee und Decke auf dem Sofa im Wohnzimmer",
])
def test_news_shared_with_nothing_asked_is_chat(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "news shared" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    # an ask after the news
    "my sourdough starter finally doubled overnight after two weeks of sulking in the cold kitchen!! "
    "can you work out how much flour I need for 3 loaves at 70% hydration",
    # a question
    "the printer in the hallway printed 40 blank pages at 3am and woke the whole house!! is the driver "
    "broken or is it the spooler on the windows box",
    # health at stake
    "lol my dog just ate half a bar of dark chocolate off the table while we were out at the shops, he "
    "seems totally fine and is wagging his tail!!",
])
def test_news_with_an_ask_a_question_or_stakes_stays_biased_up(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier != "fast" and "news shared" not in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "6 week plan to learn kubernetes and terraform for my new job, I can do about 5 h/week, weak on "
    "networking and helm charts, strong on docker",
    "exams in 4 weeks: data structures and algorithms, operating systems, compilers. make me a realistic "
    "plan, I also work weekends",
])
def test_a_plan_of_the_askers_weeks_is_no_code(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type != "code" and got.tier != "deep", got.reason


@pytest.mark.parametrize("prompt", [
    "write a python script that makes me a study plan from my exam dates and the hours I have per week, "
    "spreading the algorithms revision so no day has more than 3 hours",
    "make me a plan to prep for the interview: implement an LRU cache with O(1) get and put in Go, and "
    "explain the design",
])
def test_a_program_in_a_study_plan_is_still_code(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "code" and got.tier != "fast", got.reason


def test_two_questions_of_the_figures_are_two_steps() -> None:
    got = scored("a used ebike costs me $380. I want a 30% margin on it. what should I list it at? and what "
                 "is the markup % then")
    assert got.task_type == "math" and got.tier == "balanced", got.reason


def test_one_question_of_two_figures_is_one_step() -> None:
    got = scored("what's 30% of $380?")
    assert got.task_type == "math" and got.tier == "fast" and "one-step" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "12 % von 85 €, wie viel ist das?",
    "¿cuánto es el 21% de 250€?",
    "how much is 15% of 1,240?",
])
def test_a_percentage_of_one_figure_is_one_step_in_any_language(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "one-step" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "how much is 15% of 340€ after a 10% discount?",
    "I put 15% of my 2,400 salary aside each month, how much is that after 3 years?",
])
def test_a_percentage_with_more_figures_is_a_word_problem(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier != "fast" and "one-step" not in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "avg of 12, 15, 9, 22, 18? eggs from the hens this week",
    "sum of 120, 85, 42? grocery receipts",
])
def test_a_lists_average_with_a_few_words_after_it_is_one_step(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "one-step" in got.reason, got.reason


def test_a_lists_average_with_a_question_after_it_is_not_one_step() -> None:
    got = scored("avg of 12, 15, 9, 22, 18? and is the drop on day 3 significant compared to the rest?")
    assert got.tier != "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "combien d'habitants a Lyon à peu près ?",
    "¿cuántos idiomas oficiales tiene Suiza?",
])
def test_a_how_many_with_no_figure_is_a_fact_to_look_up(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and got.task_type != "math", got.reason


@pytest.mark.parametrize("prompt", [
    "Pedro tiene doce manzanas, regala cinco a su hermana y compra tres más. ¿Cuántas tiene ahora?",
    "Léa a douze billes, elle en donne cinq à Tom puis en gagne trois. Combien en a-t-elle ?",
])
def test_a_how_many_with_its_figures_spelled_out_is_a_word_problem(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "math" and got.tier != "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "Wie lange hält sich ein geöffnetes Glas Pesto im Kühlschrank, wenn man oben immer etwas Öl "
    "draufgießt? Meine Mutter meint zwei Wochen",
    "¿Hasta qué hora abre normalmente el mercado de San Miguel los domingos? Vamos con mis suegros y no "
    "quieren madrugar",
])
def test_a_short_question_in_a_major_language_is_read_as_english_is(prompt: str) -> None:
    # Under 25 words, as an English question would be: small models read German and Spanish well.
    got = scored(prompt)
    assert got.tier == "fast" and "biased up" not in got.reason, got.reason


def test_a_question_of_that_length_in_a_language_read_poorly_stays_biased_up() -> None:
    got = scored("Kuinka kauan avattu pestopurkki säilyy jääkaapissa, jos pinnalle kaataa aina vähän öljyä? "
                 "Äitini sanoo kaksi viikkoa")
    assert got.tier == "balanced" and "unsure, biased up" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "Explique-moi comment fonctionne l'algorithme Paxos et pourquoi il faut toujours une majorité de "
    "nœuds d'accord",
    "Erkläre mir, wie der Raft-Konsens bei einem Cluster-Ausfall einen neuen Leader wählt und warum es "
    "dabei keine zwei Leader gibt",
])
def test_a_concept_question_on_a_hard_subject_in_other_languages_is_balanced(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "balanced" and "concept question" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "Ich brauche einen Algorithmus, der 30 Build-Jobs so auf 4 Server verteilt, dass die maximale "
    "Laufzeit minimieren wird; manche Jobs dürfen nicht auf denselben Server.",
    "J'ai besoin d'un algo pour placer 30 VMs sur 4 nœuds Proxmox et minimiser la RAM max d'un "
    "nœud, certaines VMs ne peuvent pas être ensemble.",
])
def test_an_algorithm_to_design_in_other_languages_is_algorithmic(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "code" and "algorithmic" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "¿Qué tal? Hoy estoy aburrida, cuéntame algo curioso sobre los pulpos.",
    "quero mandar algo carinhoso pra minha avó, ela faz 90 anos domingo",
])
def test_algo_is_something_in_spanish_and_portuguese(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type != "code" and got.tier == "fast", got.reason


def test_a_rewrite_for_a_non_technical_reader_is_writing() -> None:
    got = scored("Could you rewrite this for our non-technical board? no jargon: \"Between 01:10 and 03:40 "
                 "the Redis cluster lost quorum after a network partition; the sentinel failover promoted a "
                 "stale "
                 "replica, which caused 150 minutes of write errors, a cache stampede on the Postgres "
                 "primary and "
                 "a deadlock in the billing worker. Analysis of the concurrency bug is ongoing.\"")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_rewrite_of_code_for_a_bug_is_still_code() -> None:
    got = scored("can you rewrite this so two threads can't both withdraw at once?\n\n"
                 "def withdraw(self, amount):\n    if self.balance >= amount:\n        self.balance -= "
                 "amount\n")
    assert got.task_type == "code" and got.tier != "fast", got.reason


def test_a_training_plan_for_a_maths_olympiad_is_no_maths_problem() -> None:
    got = scored("I coach 4 kids for the national maths olympiad, 6 weeks left, we meet on saturdays for 3 "
                 "hours. they are fine at number theory but weak at combinatorics and inequalities. "
                 "give me a "
                 "week by week plan with topics and the kind of problems to practise")
    assert got.tier != "deep" and "advanced maths" not in got.reason, got.reason


def test_an_olympiad_problem_in_a_training_plan_is_still_maths() -> None:
    got = scored("for my olympiad training plan this week: prove that n^5 - n is divisible by 30 for every "
                 "integer n, with a full solution the kids can follow")
    assert got.task_type in ("math", "reasoning") and got.tier == "deep", got.reason


def test_ascii_text_with_no_stop_word_of_any_language_is_not_taken_for_english() -> None:
    prompt = ("Habari, nataka kujua bei ya mbolea ya kupandia mahindi imepanda kiasi gani mwaka huu "
              "ukilinganisha na mwaka jana huko Nakuru, na nifanye nini?")
    assert language_of(prompt) == "other"
    got = scored(prompt)
    assert got.tier == "balanced" and "cannot tell (language other)" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "why does my docker container lose all its data when i recreate it? i thought containers were like VMs",
    "ok cool",
])
def test_english_without_its_commonest_stop_words_is_still_english(prompt: str) -> None:
    assert language_of(prompt) == "en"


_POLICY = ("SECTION 4 - ACCIDENTAL DAMAGE. We will pay for sudden and accidental damage to the contents of "
           "the home, including damage caused by water escaping from a fixed appliance, a washing machine or "
           "a dishwasher. The excess is 250 euros per claim. Damage to items kept in a garden shed is "
           "covered "
           "up to 1,500 euros in total. Claims must be reported to us within thirty days of the damage. ")


def test_what_a_policy_means_for_the_asker_is_a_judgement_on_the_text() -> None:
    got = scored("Summarise this in plain words: am I covered if our 12 year old washing machine floods the "
                 "kitchen?\n\n" + _POLICY)
    assert got.task_type == "document_summary" and got.tier == "balanced", got.reason
    assert "judgement" in got.reason, got.reason


def test_a_plain_summary_of_a_policy_stays_fast() -> None:
    got = scored("Summarise this in plain words for my mum:\n\n" + _POLICY)
    assert got.tier == "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "plan a weekend in Porto for me and Ines, our anniversary, arriving friday evening back sunday night. "
    "we like walks, seafood, a bit of fado, nothing too touristy please",
    "meal plan for my partner and me for the weekend plus 3 lunches for the office. we like curries, she "
    "doesn't eat beef, and we have leftover rice and a whole cabbage to use up",
])
def test_a_plan_of_meals_or_a_weekend_is_everyday_talk(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "everyday talk" in got.reason, got.reason


def test_a_weekend_plan_with_something_at_stake_stays_biased_up() -> None:
    got = scored("plan a weekend in Porto for me and my dad, he is on warfarin and diabetic and the "
                 "doctor says "
                 "no long walks, we like seafood and a bit of fado, what should we avoid eating")
    assert got.tier == "balanced", got.reason


def test_an_arabic_ask_to_summarise_is_a_summary() -> None:
    got = scored("لخص لي هذا الخبر في سطر واحد: أعلنت البلدية أن المكتبة العمومية ستغلق أبوابها طيلة شهر أوت "
                 "لإجراء أشغال صيانة، وستفتح من جديد في بداية سبتمبر بساعات عمل أطول.")
    assert got.task_type == "document_summary" and got.tier == "fast", got.reason


def test_an_arabic_ask_to_extract_is_an_extraction() -> None:
    got = scored("استخرج من هذه الرسالة الاسم والتاريخ والمبلغ ورقم الملف: السيد كريم بن علي، بتاريخ 12 "
                 "مارس، "
                 "مبلغ 45000 دينار، ملف رقم 2291/ب.")
    assert got.task_type == "extraction" and got.tier != "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "we need a funny name for the allotment's new compost robot, it turns the heap with a little auger. the "
    "kids in the club are 9-12 and love puns, give me like 10",
    "il me faut des noms rigolos pour les trois poules qu'on vient d'adopter au jardin partagé, les "
    "voisins votent samedi, propose-en une dizaine",
])
def test_names_to_invent_are_writing(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_name_for_a_code_thing_in_code_is_still_code() -> None:
    got = scored("give me good names for these two functions:\n\ndef f(xs):\n    return [x for x in xs "
                 "if x]\n\n"
                 "def g(d):\n    return {k: v for k, v in d.items() if v is not None}\n")
    assert got.task_type == "code", got.reason


_ABSTRACT = ("\"Background: Sepsis screening tools are widely used in emergency departments, yet their "
             "sensitivity in older adults with atypical presentation is poorly characterised. Methods: We "
             "conducted a retrospective cohort study of 4,812 admissions across three hospitals, comparing "
             "qSOFA, NEWS2 and a machine-learning score against clinician adjudication. Results: NEWS2 "
             "had the "
             "highest sensitivity (0.81) while qSOFA missed 43% of cases in patients over 80. Conclusion: "
             "Screening thresholds should be revisited for the oldest patients, as the tools' performance "
             "falls with age.\"")


def test_a_summary_in_two_sentences_for_notes_is_fast() -> None:
    got = scored("summarise this in 2 sentences for my study notes:\n\n" + _ABSTRACT)
    assert got.tier == "fast" and "brief summary" in got.reason, got.reason


def test_a_summary_of_the_same_text_with_no_length_stays_balanced() -> None:
    got = scored("summarise this for my study notes, with the methods and every figure:\n\n" + _ABSTRACT)
    assert got.tier == "balanced", got.reason


_CODE_CONTEXT = ("my python script that writes sensor readings into sqlite sometimes crashes with "
                 "'database is "
                 "locked' when the cron job runs at the same time. here's how I open the connection: "
                 "`conn = sqlite3.connect('data.db')`. why?")


def test_a_what_if_with_figures_after_code_is_about_the_code() -> None:
    got = scored("and what if I have 3 workers now, each writing 500 rows a minute? who should hold the "
                 "connection then?", context=_CODE_CONTEXT)
    assert got.task_type == "code" and "code from the conversation" in got.reason, got.reason


def test_a_csv_to_log_after_a_script_is_the_programs_data() -> None:
    got = scored("nice. now do it for every host in this list, retry 3 times on timeout and log everything "
                 "to a csv with timestamp, host, status, latency, error.\n\nHOSTS = ['nas', 'pve1', 'pve2', "
                 "'pi-hole', 'router', 'printer']",
                 context="python script: ping my NAS every minute and print if it is down")
    assert got.task_type == "code" and got.tier == "balanced", got.reason


@pytest.mark.parametrize(("prompt", "fact"), [
    ("how many public holidays are there in scotland in 2027?", True),
    ("how many weeks of shared parental leave can a dad take in the UK?", True),
    ("how many 4 digit numbers have their digits in strictly decreasing order?", False),
    ("How many times a day do the hour and minute hands of a clock point the same way?", False),
])
def test_a_how_many_with_nothing_to_work_from_is_a_fact(prompt: str, fact: bool) -> None:
    got = scored(prompt)
    assert (got.task_type == "question_answer" and got.tier == "fast") is fact, got.reason


def test_a_sum_after_code_is_still_a_sum() -> None:
    got = scored("unrelated, but what is 3/4 + 2/5 as a fraction?", context=_CODE_CONTEXT)
    assert got.task_type == "math", got.reason


@pytest.mark.parametrize("prompt", [
    "Ecco le frasi per il compito di italiano, puoi controllarle e dirmi perché sono sbagliate?\n"
    "1. Spero che lui viene domani.\n2. Penso che tu hai ragione.\n3. Voglio che tu mi dici la verità.",
])
def test_the_truth_alone_is_no_puzzle(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type != "reasoning" and got.tier != "deep", got.reason


def test_the_truth_beside_a_liar_is_a_puzzle() -> None:
    got = scored("Sur une île, chaque habitant est soit un menteur, soit dit toujours la vérité. A dit "
                 ": « B est "
                 "un menteur. » B dit : « A et moi sommes du même type. » Qui est quoi ?")
    assert got.task_type == "reasoning", got.reason


@pytest.mark.parametrize("prompt", [
    "12,5 % von 80 €, wie viel ist das?",
    "combien font 7,5 % de 1 200 € ?",
])
def test_a_decimal_comma_before_a_percent_or_currency_sign_is_one_number(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "one-step" in got.reason, got.reason


def test_a_list_of_figures_with_commas_is_still_several_numbers() -> None:
    got = scored("my scores were 7,5,9,8 and 6 this week, what's the average and the trend?")
    assert got.tier != "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "just give me the tracking number from this: 'Your parcel 4 items, order 88213, shipped 12/03 with DPD, "
    "tracking 15501234567890, estimated delivery 14/03 between 10:00 and 14:00, weight 3.2 kg'",
    "donne-moi juste le numéro de facture : « Facture n° 2025-118 du 03/02/2025, 3 x 45,00 € HT, TVA 20 %, "
    "total TTC 162,00 €, échéance 30 jours »",
])
def test_one_value_asked_for_from_a_short_text_is_fast(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "one value" in got.reason, got.reason


def test_several_fields_from_the_same_text_stay_an_extraction() -> None:
    got = scored("give me the order number, tracking number, carrier, weight and delivery window from "
                 "this as "
                 "JSON: 'Your parcel 4 items, order 88213, shipped 12/03 with DPD, tracking 15501234567890, "
                 "estimated delivery 14/03 between 10:00 and 14:00, weight 3.2 kg'")
    assert got.tier != "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "Joue le rôle d'un caviste passionné et présente notre rosé 2022 (grenache 70 %, cinsault 30 %, 6 "
    "mois en "
    "cuve) à des clients anglais qui mangent une bouillabaisse.",
    "Fai la parte di un agente immobiliare un po' esagerato e presentami il bilocale (55 mq, 2 balconi, "
    "180.000 €, 3° piano senza ascensore).",
])
def test_a_role_to_play_in_french_and_italian_is_role_play(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "what year was the first version of the linux kernel released?",
    "what year did the first raspberry pi come out",
])
def test_what_year_is_a_fact_about_the_subject(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast", got.reason


def test_two_values_to_read_off_a_short_text_are_fast() -> None:
    got = scored("what's the order number and the delivery date here?\n\n'Thanks for shopping with us. Your "
                 "order AB-55120 (2 items, 84.90 EUR) ships from our Leipzig warehouse and should arrive "
                 "on 18 March 2025, signed for by the recipient.'")
    assert got.tier == "fast" and "one value" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "Przetłumacz na angielski, to fragment opisu technicznego, terminologia ma być zgodna z Eurokodem:\n\n"
    "'Strop nad parterem zaprojektowano jako płytę żelbetową jednokierunkowo zbrojoną o grubości 18 cm, "
    "opartą na ścianach nośnych z bloczków silikatowych.'",
    "Traduce al inglés este párrafo del informe, con la terminología técnica correcta:\n\n'La losa del "
    "primer piso se calculó como una placa de hormigón armado apoyada en dos direcciones, de 20 cm de canto, "
    "sobre muros de carga de ladrillo macizo.'",
])
def test_a_translation_with_its_terminology_asked_needs_care(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


_TERMS = ("Dear Partner, from 1 July the commission on bookings made through the mobile app rises from "
          "15% to "
          "16%. Guest reviews older than 36 months will no longer be shown on the property page. "
          "Invoices will "
          "be issued on the 5th of each month instead of the 1st, and the partner newsletter moves to a "
          "quarterly schedule. Our support line now opens at 8:00 on weekdays. Thank you for being a "
          "partner.")


def test_what_a_notice_changes_for_the_asker_is_a_judgement_on_it() -> None:
    got = scored("Summarise only what actually changes for us as a small B&B, and whether we need to do "
                 "anything:\n\n" + _TERMS)
    assert got.tier == "balanced" and "judgement" in got.reason, got.reason


_RULES = ("HOUSE RULES - Check-in 15:00-19:30, later arrivals please call ahead. Check-out by 10:30. "
          "Pool open "
          "9:00-19:30, no glass, children under 12 must be supervised. Quiet hours 22:00-8:00. Dogs "
          "allowed only "
          "in the garden rooms, never on the beds, and never left alone in the room. Barbecue only in the "
          "marked area and only after asking at reception.")


def test_a_brief_summary_in_german_is_fast() -> None:
    got = scored("Kannst du mir das kurz auf Deutsch zusammenfassen? Nur das Wichtigste, bitte.\n\n" + _RULES)
    assert got.tier == "fast" and "brief summary" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "pandas read csv and skip the first 3 rows",
    "python json dump with indent and utf-8",
])
def test_a_librarys_way_with_a_format_is_a_lookup(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and got.task_type != "extraction", got.reason


@pytest.mark.parametrize("prompt", [
    "Napisz krótkie życzenia imieninowe dla mojego sąsiada Zbyszka, on kocha wędkowanie i swojego psa Burka. "
    "Ciepło i z humorem, żeby zmieściło się na kartce.",
    "Popraw tego maila do pani z administracji zeby brzmial uprzejmie ale konkretnie: 'dzien dobry, od "
    "tygodnia nie dziala winda w klatce B, prosze o info kiedy bedzie naprawiona, pozdrawiam'",
])
def test_a_polish_card_or_rewrite_is_writing(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


_CLUB_NOTES = ("turn these notes into a CSV: name, group, missing items, fee paid\n\n'Group A - Lena "
               "Brandt paid, "
               "still owes the permission letter. Group B: Tom Weiss no fee yet, his essay for the "
               "newsletter is "
               "late, dad asked for an email at t.weiss@example.org. Group A Mia Roth paid, missing the "
               "poem for "
               "the card and the photo form.'")


def test_notes_to_turn_into_a_csv_are_an_extraction() -> None:
    got = scored(_CLUB_NOTES)
    assert got.task_type == "extraction" and got.tier != "fast", got.reason


def test_a_follow_up_on_that_csv_continues_the_extraction() -> None:
    got = scored("great. now add a column with the contact where the notes give one, and sort by group",
                 context=_CLUB_NOTES)
    assert got.task_type == "extraction" and got.tier != "fast", got.reason


def test_how_to_say_a_phrase_in_polish_is_a_translation() -> None:
    got = scored('Jak po niemiecku powiedzieć "dowód osobisty" i "meldunek"? Wypełniam formularz dla '
                 'sąsiadki z Ukrainy.')
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


@pytest.mark.parametrize("prompt", [
    "scrivimi una presentazione breve x airbnb del nostro appartamento al mare: 2 camere, terrazzo, 300 m "
    "dalla spiaggia, parcheggio privato, animali ammessi. max 400 caratteri, tono caldo",
    "escríbeme una nota corta para la vecina del 3º: mañana a las 9 viene el fontanero por la fuga del baño, "
    "puede que corten el agua una hora, perdón por las molestias y gracias",
])
def test_a_text_to_write_in_italian_or_spanish_is_writing(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_function_to_write_in_italian_is_still_code() -> None:
    got = scored("scrivimi una funzione python che legge un file csv di prenotazioni e restituisce le notti "
                 "occupate per camera")
    assert got.task_type == "code", got.reason


def test_a_conversation_held_in_a_rare_language_is_not_small_talk() -> None:
    got = scored("Nonna, contaci una storia!", context="You are Nonna Maria, a grandmother from Nuoro "
                 "who tells "
                 "old stories to her grandchildren. Speak mostly in Sardinian, with a little Italian.")
    assert got.tier == "balanced" and "language small models write less well" in got.reason, got.reason


def test_a_conversation_held_in_a_major_language_stays_small_talk() -> None:
    got = scored("Mamie, raconte-nous une histoire !", context="You are Mamie Jeanne, a grandmother "
                 "from Lyon "
                 "who tells old stories to her grandchildren. Speak mostly in French, with a little English.")
    assert got.tier == "fast", got.reason


def test_r_summary_output_is_material_not_a_summary_ask() -> None:
    got = scored("help me write up the results section from this, my supervisor wants effect sizes:\n\n"
                 "> summary(fit)\n\nCall:\nlm(formula = yield ~ fert * water, data = d)\n\nCoefficients:\n"
                 "             Estimate Std. Error t value Pr(>|t|)\n(Intercept)   4.210    0.112  "
                 "37.59  <2e-16\n"
                 "fertHigh      0.532    0.158   3.37   0.0012\nwaterLow     -0.611    0.158  -3.87   "
                 "0.0002\n"
                 "fertHigh:waterLow 0.298 0.224 1.33 0.1870\n")
    assert got.task_type != "document_summary" and got.tier != "fast", got.reason


@pytest.mark.parametrize(("prompt", "task_type"), [
    ("udowodnij, że suma trzech kolejnych liczb całkowitych jest podzielna przez 3", "reasoning"),
    ("napisz funkcję w pythonie, która sprawdza czy liczba jest pierwsza", "code"),
    ("oblicz całkę z x*sin(x) od 0 do pi i pokaż kroki", "math"),
])
def test_polish_hard_asks_are_read(prompt: str, task_type: str) -> None:
    got = scored(prompt)
    assert got.task_type == task_type and got.tier != "fast", got.reason


@pytest.mark.parametrize(("prompt", "task_type", "tier"), [
    ("Faz de conta que tu és um pescador velho de Florianópolis e eu sou um turista perguntando onde comer "
     "a melhor tainha. Responde com calma, do teu jeito", "creative_writing", "fast"),
    ('traduz pro ingles pra eu mandar no grupo: "a reunião de amanhã foi adiada pra quinta às 10h, o link '
     'continua o mesmo"', "creative_writing", "fast"),
    ('me resume em duas linhas: "A prefeitura informa que a feira livre da Rua Augusta vai mudar para a Rua '
     'Frei Caneca a partir de sábado, por causa das obras do metrô, com as mesmas barracas e horários."',
     "document_summary", "fast"),
    ("quanto é 3 elevado a 5?", "question_answer", "fast"),  # (as "what's 2 to the power of 10?")
    ("Sacame las tareas de este mail en JSON, con responsable y fecha límite: \"Hola equipo: Martín revisa "
     "el contrato con Fibertel antes del viernes 18, Sofía arma el presupuesto para el martes 22 y Lucas "
     "manda las facturas pendientes cuando vuelva de vacaciones.\"", "extraction", "balanced"),
])
def test_portuguese_and_spanish_asks_are_read(prompt: str, task_type: str, tier: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == (task_type, tier), got.reason


def test_a_proof_asked_in_portuguese_is_a_proof() -> None:
    got = scored("encontre todas as funcoes f: R -> R tais que f(x+y) = f(x) + f(y) e f(xy) = f(x)f(y), "
                 "provando "
                 "que nao tem outras")
    assert got.tier == "deep", got.reason


@pytest.mark.parametrize("prompt", [
    "write a whatsapp msg to our plumber saying we need to move tomorrow's visit from 9 to 11 because the "
    "school run got changed, and ask if that still works for him",
    "Skryf vir my 'n kort boodskap vir die buurt-groep oor die verlore kat, sy is grys met 'n wit bors en "
    "antwoord op die naam Mollie. Bel asseblief as julle haar sien",
])
def test_a_message_to_write_is_writing(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_recipe_to_translate_is_no_question_about_a_pasted_table() -> None:
    got = scored("Kannst du mir dieses Rezept ins Englische übersetzen? Für meine Schwiegermutter.\n\n"
                 "Apfelkuchen\nTeig: 200 g Mehl, 100 g Butter, 80 g Zucker, 1 Ei, 1 Prise Salz.\n"
                 "Füllung: 4 Äpfel, 2 EL Zucker, 1 TL Zimt, Saft von 1/2 Zitrone.\n"
                 "Streusel: 100 g Mehl, 60 g Butter, 50 g Zucker, 1 Prise Zimt, etwas Vanille.\n"
                 "Backen: 45 Minuten, 180 Grad, Ober- und Unterhitze, mittlere Schiene, Form gefettet.\n"
                 "Servieren: lauwarm, mit Sahne, mit Eis, am besten am selben Tag.")
    # (At this length it is a long ask, a mid model's job: see the test for a long ask of its own.)
    assert got.task_type == "creative_writing" and "pasted table" not in got.reason, got.reason


def test_a_motto_to_translate_into_latin_named_in_portuguese_needs_care() -> None:
    got = scored("quero um lema em latim pro brasão do nosso clube de xadrez: 'quem pensa antes, vence "
                 "depois'. "
                 "traduz certinho e explica cada palavra")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_an_example_is_no_exam_in_a_plan() -> None:
    got = scored("For example, plan the migration of our k3s cluster to containerd with zero downtime and "
                 "daily backups, with the algorithm for draining nodes one at a time")
    assert got.task_type == "code", got.reason


def test_a_logic_grid_with_numbered_clues_is_a_puzzle_not_a_sum() -> None:
    # The clue numbers are no quantities: with them counted, the figures made it a word problem.
    got = scored(
        "one for the quiz night, can you solve it and show the steps? five of us each give one talk next "
        "week, one per day Mon-Fri, each in a different room (A, B, C, D, E) and each on a different topic "
        "(bees, trains, tea, maps, clocks).\n1. Jo talks the day after Kit.\n2. The bees talk isn't in "
        "room C.\n3. Lu is in room A.\n4. Wednesday's talk is about tea.\n5. Mo doesn't talk on Monday.\n"
        "6. The maps talk is in room E.\n7. Kit talks about clocks.\n8. Room B is used on Friday.\n"
        "9. Ned's talk is two days before the trains talk.\n10. Lu talks on Tuesday.\n"
        "11. Room D is used the day before room B.\n12. The bees talk is on Monday.\n"
        "who talks on which day, in which room, about what?")
    assert got.task_type == "reasoning" and got.tier == "deep", got.reason


def test_a_phrase_to_say_in_cantonese_needs_care() -> None:
    got = scored("how do i say 'thank you for the lovely dinner, auntie' in cantonese? with jyutping please")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_memory_graphs_beside_a_pod_are_no_graph_algorithm() -> None:
    got = scored("our spring boot container gets OOMKilled at a 2Gi limit with -Xmx1500m, but the heap "
                 "graphs in "
                 "grafana never go past 1.1g. where is the rest going?")
    assert "algorithmic" not in got.reason and got.tier == "balanced", got.reason


def test_fields_pulled_out_as_json_from_a_mail_are_no_reply_to_write() -> None:
    # The mail's "please do not reply" is its material, not a reply to write.
    got = scored(
        "pull these out as JSON: order number, order date, items, subtotal, shipping, total, delivery "
        "window. null if missing\n\nFrom: Dales Garden Supplies <orders@dalesgarden.example>\n"
        "Subject: Your order DG-55102 is confirmed\n\nHi Geoff,\n\nThanks for your order on 14 March. "
        "You ordered 2 x raised bed kit (£39.99 each) and 1 x compost bin (£24.50). Subtotal £104.48, "
        "shipping £6.95, total £111.43. Your delivery window is 19-21 March, between 8am and 6pm.\n\n"
        "This mailbox is not monitored, please do not reply to this email.\nDales Garden Supplies")
    assert got.task_type != "creative_writing" and got.tier == "balanced", got.reason


def test_find_all_positive_integers_such_that_is_competition_maths() -> None:
    got = scored("maths club: find all pairs of positive integers (m, n) such that m + n divides mn + 1. we "
                 "found (1, 1) and (2, 3) by hand")
    assert got.task_type == "math" and got.tier == "deep", got.reason


def test_a_chain_of_relatives_is_a_puzzle() -> None:
    got = scored("Looking at a portrait, Meera said: 'His mother is the only daughter of my father's "
                 "mother.' "
                 "How is the man in the portrait related to Meera?")
    assert got.task_type == "reasoning" and got.tier == "balanced", got.reason


def test_a_contest_input_bound_makes_code_algorithmic() -> None:
    got = scored("my solution gets TLE, need a faster approach in c++\n\nn points on a line (1 <= n <= "
                 "2*10^5), "
                 "q <= 2*10^5 queries: 'move point i to x' or 'count points in [l, r]'.\n\nint main() {\n"
                 "    int n, q;\n    cin >> n >> q;\n    vector<long long> p(n);\n    for (auto &x : p) "
                 "cin >> x;\n}")
    assert got.task_type == "code" and "algorithmic" in got.reason, got.reason


def test_a_bank_card_is_no_card_to_write() -> None:
    got = scored("I clicked the link in the parcel text and typed my credit card number into the page. Now "
                 "the bank app shows a payment I did not make. What should I do first?")
    assert got.task_type != "creative_writing" and got.tier == "balanced", got.reason


def test_a_birthday_card_is_still_writing() -> None:
    got = scored("write a birthday card message for my gran, she's 90 on sunday")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_two_factor_authentication_asked_by_a_layman_is_no_code() -> None:
    got = scored("My bank says I must turn on two-factor authentication for online banking. What does that "
                 "mean and will it make anything harder for me?")
    assert got.task_type != "code" and got.tier != "deep", got.reason


def test_what_to_do_from_a_pasted_newsletter_is_a_digest() -> None:
    got = scored(
        "what do i need to do from this\n\nDear parents,\nThe Year 4 trip to the museum is on Friday 7 "
        "March. "
        "Children should bring a packed lunch and wear school uniform. The coach leaves at 8.45am sharp, so "
        "please arrive by 8.30. The cost is £12, payable on the school app by Monday 3 March. If your child "
        "needs medication, please hand it to the class teacher on the day with a signed form. Book Week runs "
        "10-14 March: children may come dressed as a book character on Thursday 13 March. Parents' evening "
        "bookings open on 17 March for appointments on 25 and 26 March.\nThank you,\nMrs Oduya")
    assert got.task_type == "document_summary" and got.tier != "deep", got.reason


def test_bullets_asked_of_a_pasted_notice_with_figures_are_a_summary_not_maths() -> None:
    # "3 bullets max" names a summary's form; the notice's dates and prices are its material.
    got = scored(
        "3 bullets max, what do I actually need to do?\n\nDear residents,\nFrom Monday 14 April the bin "
        "collection moves from Tuesday to Wednesday. Green bins go out every second week, starting 16 April; "
        "brown garden-waste bins need a new £45 permit by 31 March, bought online or at the library. Bulky "
        "items can be booked for collection at £25 for up to 3 items. Please put bins out by 7am and bring "
        "them in by 8pm on the same day.\nThank you,\nCity Council Waste Services")
    assert got.task_type == "document_summary" and got.tier != "deep", got.reason


@pytest.mark.parametrize("prompt", [
    "skriv en lapp till tvättstugan om att torktumlaren är trasig, använd torkskåpet tills fredag",
    "zaproszenie na grilla u nas w sobotę 14 czerwca od 16:00, każdy przynosi coś do picia",
    "scrivi un cartello per la porta del negozio: chiuso per ferie dal 10 al 24 agosto, riapriamo il 25",
])
def test_a_note_an_invitation_or_a_sign_to_write_is_writing_in_more_languages(prompt: str) -> None:
    # The text's own noun says what is to be written; the verb ("skriv", "scrivi") may also ask for code.
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast"), got.reason


def test_a_schedule_with_figures_and_no_rule_is_no_constraint_problem() -> None:
    got = scored("my son's 6th birthday, 12 kids at the house, 3 hours on sunday. he loves dinosaurs. "
                 "give me a simple schedule of games and a shopping list")
    assert "constraint" not in got.reason and got.tier != "deep", got.reason


def test_dependencies_with_figures_are_still_a_constraint_problem() -> None:
    got = scored("3 of us, 6 jobs: A (2h), B (3h, after A), C (1h), D (4h, after B and C), E (2h), "
                 "F (1h, after D and E). given the dependencies, what's the earliest we can be done?")
    assert "constraint" in got.reason and got.tier == "deep", got.reason


@pytest.mark.parametrize("prompt", [
    "linkedin post saying we just hired our first data scientist, Ravi, keep it warm, 3-4 lines, one hashtag",
    "short bio for the conference programme, ~60 words, third person: 15 yrs in logistics, now runs a small "
    "consultancy, cycles to work, two kids",
])
def test_a_post_or_bio_to_write_is_writing(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_textbook_notes_to_turn_into_bullets_are_a_summary() -> None:
    got = scored(
        "turn this into revision bullet points, 5-6 max, it's from my a-level cs book\n\n"
        "A binary search tree stores keys so that every key in a node's left subtree is smaller than "
        "the node's "
        "key and every key in its right subtree is larger. Searching starts at the root and moves left "
        "or right "
        "at each step, so a balanced tree answers a search in O(log n) time, while a degenerate tree that is "
        "really a linked list needs O(n). Insertion follows the same path as a search and adds the new "
        "key as a "
        "leaf. Deletion has three cases: a leaf is removed directly, a node with one child is replaced "
        "by that "
        "child, and a node with two children is replaced by its in-order successor, the smallest key in its "
        "right subtree. Self-balancing trees such as AVL and red-black trees keep the height logarithmic by "
        "rotating nodes after insertions and deletions.")
    assert got.task_type == "document_summary" and got.tier != "deep", got.reason


def test_tldr_opening_a_pasted_update_is_a_summary_not_its_sums() -> None:
    got = scored(
        "tl;dr this for mum, she only needs to know if the heating will be off this week\n\nRight, "
        "summary of "
        "the boiler saga: the pressure dropped from 1.5 to 0.4 bar over 3 days and the boiler locked out on "
        "Monday. The engineer's bill so far: 2 * 45 + 60 = 150 pounds. The new vessel arrives Thursday. On "
        "FRIDAY between 9 and 11 the engineer will fit it, so heating will be OFF for up to two hours. "
        "If anyone "
        "has a slot booked for a bath then, tell me and we'll do it Saturday. What will the total be? About "
        "150 + 95 = 245.")
    assert got.task_type == "document_summary" and got.tier == "fast", got.reason


def test_thanks_with_works_now_closes_a_hard_conversation() -> None:
    context = ("user: my DMA buffer reads stale data on the STM32H7 after the first transfer, code below\n"
               "assistant: The D-cache holds the old lines: align the buffer to 32 bytes and invalidate "
               "the cache "
               "before you read it, or put it in a non-cacheable region with the MPU.")
    got = scored("thanks!! that was it, cache invalidate before reading. works now", context=context)
    assert got.task_type == "casual_chat" and got.tier == "fast", got.reason


def test_a_tagalog_ask_to_translate_a_pasted_text_is_a_translation() -> None:
    got = scored("pakisalin mo sa tagalog itong sulat ng landlord, para maintindihan ni nanay\n\n"
                 "Dear tenants, the water will be shut off on Saturday from 9 am to 3 pm for repairs to "
                 "the main "
                 "pipe. Please store enough water for 6 hours. Rent for March is due on the 5th; a late "
                 "fee of "
                 "500 pesos applies after the 10th. Thank you for your patience.")
    assert got.task_type == "creative_writing", got.reason


@pytest.mark.parametrize("prompt", [
    "what a week. the van broke down twice, two customers cancelled and my back is killing me. i dont want "
    "advice, i just want to moan for a sec",
    "ugh, the landlord ignored me again, the boiler has been off since monday, the kids are freezing "
    "and work "
    "was chaos all week. not asking for solutions, i just need to vent",
])
def test_a_vent_that_wants_no_advice_is_chat(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and "venting" in got.reason, got.reason


def test_pull_out_all_the_references_is_an_extraction() -> None:
    got = scored(
        "pull out all the references in this chapter and give me bibtex entries, i'll check the page "
        "numbers\n\n"
        "Early work on rural broadband (Smith 2011; Patel & Jones, 2014) framed access as a question of "
        "infrastructure. Later studies, notably Okafor (2019, Journal of Rural Studies) and the OECD report "
        "of 2020, shifted the focus to affordability. A poem by Heaney opens the chapter, and the story of "
        "the village of Kells, told by Byrne (2017), closes it.")
    assert got.task_type == "extraction" and got.tier == "balanced", got.reason


def test_show_working_asks_for_maths() -> None:
    context = ("user: two firms, Cournot, inverse demand P = 100 - Q, marginal cost 10 each. equilibrium?\n"
               "assistant: Each firm produces 30, the price is 40 and each earns a profit of 900.")
    got = scored("ok now firm 1 moves first, stackelberg. who earns more than before, and what happens to "
                 "consumer surplus? show working", context=context)
    assert got.task_type == "math", got.reason


def test_cannot_prove_it_in_a_chat_is_no_proof() -> None:
    context = "user: you're my mate at the pub. we're arguing about whether the moon landing was faked."
    got = scored("so you'd put money on it? even though you can't prove it?", context=context)
    assert got.task_type != "reasoning" and got.tier != "deep", got.reason


def test_can_you_prove_it_after_a_proof_continues_the_proof() -> None:
    context = ("user: prove that the sum of the first n odd numbers is n^2\n"
               "assistant: By induction: 1 = 1^2, and if 1 + 3 + ... + (2n-1) = n^2 then adding 2n+1 gives "
               "(n+1)^2.")
    got = scored("nice. and can you prove it without induction, with a picture argument?", context=context)
    assert got.tier == "deep", got.reason


def test_another_language_asked_after_a_translation_is_a_translation() -> None:
    context = "user: translate for the shop door: 'Back in ten minutes, sorry!'"
    got = scored("and in welsh too? the council wants both", context=context)
    assert got.task_type == "creative_writing" and got.tier == "balanced", got.reason


def test_a_message_to_translate_into_te_reo_maori_needs_care() -> None:
    got = scored("translate into te reo Māori for the club newsletter: 'Thank you to every volunteer who "
                 "helped at the working bee on Saturday.'")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_a_japanese_lease_summary_asking_what_happens_to_me_is_a_judgement() -> None:
    got = scored(
        "この賃貸契約の要点をまとめて。特に、私が一年以内に退去した場合どうなるか知りたい。\n\n"
        "第7条 解約 乙は、契約期間中であっても、1ヶ月前までに甲に書面で通知することにより本契約を解約する"
        "ことができる。ただし、契約開始日から1年未満に解約する場合、乙は違約金として賃料の1ヶ月分を甲に支払う"
        "ものとする。第8条 原状回復 乙は、退去時に通常の使用による損耗を除き、本物件を原状に回復しなければ"
        "ならない。第9条 敷金 甲は、乙の退去後1ヶ月以内に、未払い賃料及び原状回復費用を差し引いた敷金を"
        "乙に返還する。")
    assert got.task_type == "document_summary" and got.tier == "balanced", got.reason


def test_an_integral_to_work_out_is_no_one_step_arithmetic() -> None:
    got = scored("differentiate sin(x)/x^3 and simplify")
    assert got.task_type == "math" and got.tier != "fast", got.reason


def test_a_pupils_olympiad_problem_is_competition_maths() -> None:
    got = scored("my daughter (14) is training for the maths olympiad: prove that n^3 - n is divisible by 6 "
                 "for every integer n. she has the idea but not the write-up")
    assert got.task_type == "math" and got.tier == "deep", got.reason


def test_a_careful_translation_asked_in_spanish_needs_care() -> None:
    got = scored("tradúceme esto con cuidado, es del banco y no quiero firmar algo malo: 'The borrower shall "
                 "repay the outstanding balance in full upon any change of employment, unless the lender "
                 "agrees otherwise in writing.'")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_probability_in_notation_beside_a_random_device_is_maths() -> None:
    got = scored("roll two dice. P(sum is 8)?")
    assert got.task_type == "math" and got.tier != "fast", got.reason


def test_an_ordering_puzzle_of_clues_is_a_puzzle() -> None:
    got = scored("four kids queue for the slide: Ada, Ben, Cal, Dee. Ada goes before Cal. Ben is not first. "
                 "Dee goes right after Ben. Cal goes after Dee. what's the order?")
    assert got.task_type == "reasoning" and got.tier != "fast", got.reason


def test_thanks_naming_the_fixed_line_close_a_code_conversation() -> None:
    context = ("user: my asyncio worker hangs after the first batch, here's the loop:\n"
               "async def run(q):\n    while True:\n        item = q.get()\n        await handle(item)")
    got = scored("it was the count += 1 outside the lock all along. absolute lifesaver 🙏", context=context)
    assert got.task_type == "casual_chat" and got.tier == "fast", got.reason


def test_house_rules_to_write_in_another_language_are_a_translation() -> None:
    got = scored("our new au pair only reads French. can you write the house rules in French for her?\n"
                 "1. Never leave the kids alone in the bath\n2. No sweets before dinner\n3. Always lock the "
                 "back door at night\n4. Screens off by 7pm, except Fridays")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_help_answering_a_parent_who_mentions_proof_is_a_reply_to_write() -> None:
    got = scored("help me answer this parent politely, I kept her daughter in at break for swearing.\n\n"
                 "her message: \"You have no proof my daughter said that word. Other children were there "
                 "and nobody asked them. I want this removed from her record today.\"")
    assert got.task_type == "creative_writing" and got.tier != "deep", got.reason


def test_a_difference_walked_through_with_a_diagnosis_is_no_lookup() -> None:
    got = scored("what's the difference between a hard link and a symlink? step by step what the filesystem "
                 "does for each when i delete the original, and why would our backup still hold the old file")
    assert got.tier == "balanced", got.reason


def test_a_versus_question_without_code_is_a_concept_question() -> None:
    got = scored("channels vs mutexes in go, when should i use which? context: a pool of worker goroutines "
                 "feeding one writer goroutine")
    assert got.tier == "balanced" and "concept question" in got.reason, got.reason


def _invoice(lines: int) -> str:
    return "\n".join(f"{n:02d} | Widget {n} | qty {n % 7 + 1} | unit {n * 1.25:.2f} EUR | batch B{n:04d}"
                     for n in range(1, lines + 1))


def test_fields_from_a_long_pasted_source_are_a_mid_models_extraction() -> None:
    got = scored("extract every line into JSON with fields product, qty, unit_price, batch:\n" + _invoice(40))
    assert got.task_type == "extraction" and got.tier == "balanced", got.reason
    assert "long source" in got.reason, got.reason


def test_fields_from_a_short_given_text_keep_their_point() -> None:
    got = scored("extract every line into JSON with fields product, qty, unit_price, batch:\n" + _invoice(4))
    assert got.task_type == "extraction" and got.tier == "deep", got.reason


def test_a_dynamic_programme_asked_in_portuguese_is_algorithmic_code() -> None:
    got = scored("preciso da distância de Levenshtein entre strings de 1 milhão de caracteres, a matriz "
                 "inteira não cabe na memória. escreve a implementação em python + numba, só com duas linhas "
                 "da matriz, e um teste contra a versão quadrática em strings pequenas")
    assert got.task_type == "code" and got.tier == "deep", got.reason


def test_a_rota_with_its_rules_in_portuguese_is_a_constraint_problem() -> None:
    got = scored("monta a escala da portaria pra semana? 5 porteiros (Rui, Sol, Tiago, Vera, Zé), cada um "
                 "faz exatamente 1 turno de segunda a sexta. regras:\n1. Rui não pode segunda.\n2. Sol "
                 "trabalha logo depois do Tiago.\n3. Vera nunca na sexta.\n4. Zé antes da Vera.")
    assert got.task_type == "reasoning" and got.tier != "fast", got.reason


def test_two_abstracts_to_summarise_where_they_disagree_are_a_judgement() -> None:
    abstracts = ("Study A: in 120 allotments, mulching with straw raised tomato yield by 18% and cut "
                 "watering "
                 "by a third over two seasons. " * 3 + "Study B: across 90 allotments, straw mulch gave no "
                 "yield gain and raised slug damage in wet summers, with watering unchanged. " * 3)
    got = scored("summarise in what exactly these two disagree and whether they can be reconciled:\n\n"
                 + abstracts)
    assert got.task_type == "document_summary" and got.tier == "balanced", got.reason


def test_an_olympiad_problem_asked_in_portuguese_with_proof_is_competition_maths() -> None:
    got = scored("questão de olimpíada: determine todos os inteiros n para os quais n² + n + 41 é um "
                 "quadrado "
                 "perfeito, com prova.")
    assert got.tier == "deep", got.reason


def test_a_pain_scale_in_a_prescription_is_no_rota() -> None:
    got = scored("resume pra passagem de plantão: paciente leito 12, dor 7 na escala de 0 a 10 às 14h, "
                 "dipirona 1g às 14h30, dor 3 às 16h. manter jejum até 20h.")
    assert got.task_type != "reasoning" and got.tier != "deep", got.reason


@pytest.mark.parametrize("prompt", [
    "need a short retirement speech for Mr Tan, our physics teacher for 28 years: he ran the maths "
    "olympiad team from 2001, solved every integral on the board in 3 lines and loves durian. "
    "warm and a little funny",
    # a note for a card, asked in the first words
    "need a short sympathy card note to the Okafors. their cat Biscuit died on Monday, she was 19 and "
    "they got her when their son was 4. he's 23 now. kind, not gushing, 3-4 sentences for a card",
    "I need a thank-you card note for Mrs Ruiz, who fed our 2 dogs for 10 days while we were away, 5 lines",
    # a speech or wishes, asked in French
    "ma sœur se marie le 14 juin, je dois faire un petit discours de 3 minutes au repas, drôle mais pas "
    "méchant, elle a 34 ans et lui 36",
    "des vœux pour la carte de Noël de l'équipe, 4 lignes, on est 12",
])
def test_a_speech_asked_in_the_first_words_is_writing_whatever_its_details(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_dose_at_the_same_time_each_day_is_no_concurrency() -> None:
    got = scored("explain this to my dad simply: 'Take one capsule at the same time each day, with "
                 "food. Do not "
                 "crush or chew. If you feel dizzy, sit down and do not drive until it passes. Keep out "
                 "of the "
                 "reach of children.'")
    assert got.task_type != "code" and got.tier != "deep", got.reason


def test_a_what_if_over_the_askers_own_figures_is_a_sum_not_a_puzzle() -> None:
    got = scored("my chemistry test marks out of 50: 31, 35, 38, 40\nwhats my average, am i getting "
                 "better, and if "
                 "i want my average over all 6 tests to be 40 what do i need in the last 2?")
    assert got.task_type == "math" and got.tier == "balanced", got.reason


def test_a_difference_asked_in_arabic_is_a_lookup() -> None:
    got = scored("يعني ايه الفرق بين الشاحن السريع والشاحن العادي؟ ابني بيقول السريع بيبوظ البطارية ومش "
                 "عارفة "
                 "أصدقه ولا لأ")
    assert got.tier == "fast" and "difference to look up" in got.reason, got.reason


def test_an_arduino_state_machine_is_code() -> None:
    got = scored("esp32: blink the red led twice a second while the door sensor (pin 13, active low) "
                 "reads open, "
                 "and stop after 30 s even if it stays open. use millis, no delay, and debounce the sensor")
    assert got.task_type == "code" and got.tier == "balanced", got.reason


def test_a_translation_asked_to_be_correct_needs_care() -> None:
    got = scored("traduceme esto pa un cliente, q quede correcto: 'The withholding rate is reduced to "
                 "10% only "
                 "if the beneficial owner is a resident of a treaty country and provides a valid certificate "
                 "of residence before the payment date.'")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_one_value_asked_in_mexican_spanish_is_a_lookup_in_the_text() -> None:
    got = scored("dame la CURP de esto porfa: 'Alumno: Diego Ramírez Soto, CURP RASD050312HDFMTG09, "
                 "grupo 3B, "
                 "turno matutino, tutor: Laura Soto'")
    assert got.tier == "fast" and "one value" in got.reason, got.reason


def test_an_email_asked_with_hazme_is_writing() -> None:
    got = scored("hazme un correo pa mis inquilinos recordandoles q la renta se paga antes del dia 5 y "
                 "q ya no "
                 "acepto efectivo, solo transferencia. amable pero firme")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_question_before_plain_english_applies_the_text() -> None:
    terms = ("3.2 The tenant shall give not less than two months' notice in writing, save where the "
             "landlord has failed to carry out repairs notified under clause 5.1 within 28 days, in "
             "which case "
             "one month's notice shall suffice. 3.3 The deposit shall be returned within 10 working days of "
             "the end of the tenancy, less any deductions agreed under clause 7. ")
    got = scored("what do i have to do to leave early and by when? plain english pls\n\n" + terms)
    assert got.tier == "balanced", got.reason


def test_what_did_we_decide_in_a_pasted_chat_is_a_digest() -> None:
    chat = "\n".join(f"[0{d}/11 20:1{d}] {who}: {line}" for d, (who, line) in enumerate((
        ("Mam", "are we doing the 14th or the 21st for Nana's 80th?"), ("Sean", "21st, I'm away the 14th"),
        ("Dad", "21st so. Hotel or the house?"), ("Aoife", "house, 30 people max, I'll do 2 trays of "
         "lasagne"),
        ("Mam", "grand, cake from Cahill's, 40 euro each towards it")), 1))
    got = scored("what did we actually decide in the end?? i was at work\n\n" + chat)
    assert got.task_type == "document_summary" and got.tier != "deep", got.reason


def test_cattle_weighing_so_many_kilos_is_no_balance_puzzle() -> None:
    report = ("A pen of four Charolais bullocks weighing 410kg made €1,350 a head, while three Limousin "
              "heifers weighing 380kg sold for €1,240. Friesian calves weighing 60kg made €120 to €150. ")
    ask = "pull every sale out of this into json: breed, number, weight, price per head\n\n"
    got = scored(ask + report * 2)
    assert got.task_type == "extraction", got.reason


def test_weighings_still_make_a_balance_puzzle() -> None:
    got = scored("9 coins, one is lighter. how do you find it in 2 weighings on a balance scale? "
                 "explain each "
                 "step")
    assert got.task_type == "reasoning", got.reason


def test_a_text_adventure_to_run_is_role_play() -> None:
    got = scored("run a little text adventure for me: a lighthouse keeper on a stormy night in 1890, give me "
                 "three choices at each step")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_help_to_write_an_introduction_in_french_is_writing() -> None:
    got = scored("Aide-moi à écrire une petite présentation pour mon nouveau club de foot : je "
                 "m'appelle Liam, "
                 "j'ai 14 ans, je joue milieu de terrain et j'aime la musique. Simple stp")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_the_average_of_these_figures_is_one_step_arithmetic() -> None:
    got = scored("median of these: 72, 68, 75, 81, 70")
    assert got.task_type == "math" and got.tier == "fast", got.reason


def test_a_security_review_asked_in_swedish_is_deep_code() -> None:
    code = ("```php\n$user = $_POST['user'];\n$q = \"SELECT * FROM users WHERE name = '$user'\";\n"
            "$res = mysqli_query($db, $q);\nif (mysqli_num_rows($res) > 0) { $_SESSION['ok'] = 1; }\n```")
    got = scored("Kan du göra en säkerhetsgranskning av den här inloggningen? Rangordna sårbarheterna efter "
                 "allvar.\n\n" + code)
    assert got.task_type == "code" and got.tier == "deep", got.reason


def test_nynorsk_asked_after_a_translation_needs_care() -> None:
    context = "user: översätt till norska: 'Vi kommer på måndag och lämnar nyckeln i brevlådan.'"
    got = scored("kan du ta den på nynorsk istället?", context=context)
    assert got.task_type == "creative_writing" and got.tier == "balanced", got.reason


@pytest.mark.parametrize("prompt", [
    "x, y pozitif reel sayılar ve x + y = 2 olmak üzere x^3 + y^3 ≥ 2 olduğunu ispatlayın",  # noqa: RUF001 (Turkish dotless i)
    "n tek sayı ise n^2 - 1 sayısının 8 ile bölündüğünü kanıtla",  # noqa: RUF001
])
def test_a_proof_asked_in_turkish_is_a_proof(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "deep" and "prove" in got.reason, got.reason


def test_a_liar_puzzle_in_swedish_is_a_puzzle() -> None:
    got = scored("Tre elever: Ali säger 'Bea ljuger'. Bea säger 'Cem ljuger'. Cem säger 'Ali och Bea ljuger "
                 "båda'. Vem talar sanning?")
    assert got.task_type == "reasoning", got.reason


def test_a_proof_asked_in_ukrainian_is_a_proof() -> None:
    got = scored("доведіть, що для будь-якого натурального n число n^3 + 5n ділиться на 6")
    assert got.tier == "deep", got.reason


def test_a_rhyming_translation_asked_in_russian_needs_care() -> None:
    got = scored("Переведи на немецкий, чтобы сохранилась рифма, это поздравление для соседки: «Поздравляю, "
                 "дорогая, пусть весна цветёт всегда, пусть удача, не скучая, не покинет никогда, пусть в "
                 "саду растут тюльпаны и смеются внуки возле окна»")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_email_addresses_to_copy_out_of_a_short_text_are_a_small_models_job() -> None:
    text = ("hi all, minutes attached. questions to the chair jo.byrne@clubmail.ie or the treasurer "
            "pat.walsh@clubmail.ie, and fixtures go to fixtures@kerrygaa.example. see you thursday")
    got = scored("get all the email addresses out of this\n\n" + text)
    assert got.tier == "fast" and "addresses" in got.reason, got.reason
    named = scored("get every name and email address out of this\n\n" + text)
    assert named.tier == "balanced", named.reason


def test_unsafe_code_that_miri_rejects_is_deep_code() -> None:
    got = scored("miri flags this as UB but the tests pass, can you review it?\n\n```rust\nunsafe fn "
                 "first<T>(v: "
                 "&Vec<T>) -> &T {\n    &*v.as_ptr()\n}\n```")
    assert got.task_type == "code" and got.tier == "deep", got.reason


def test_thanks_with_the_letters_drawn_out_close_the_conversation() -> None:
    context = ("user: how many lattice paths from (0,0) to (8,8) never touch the diagonal? i get 1430 "
               "but the judge says WA\nassistant: you counted paths that stay on or below it; never "
               "touching it leaves 2 * C(7) = 858 ...")
    got = scored("omg AC!!! thank youuuu 😭", context=context)
    assert got.task_type == "casual_chat" and got.tier == "fast", got.reason


def test_a_note_to_write_with_three_words_before_it_is_writing() -> None:
    got = scored("write a short friendly welcome note for the new volunteers, mention parking is behind the "
                 "hall and tea is at 10")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_what_a_named_sender_wants_in_another_language_is_a_translation() -> None:
    got = scored("what does this guest want? Hola, reservamos una habitación doble para el viernes. "
                 "¿Podemos llegar a las once de la noche? ¿Hay alguien en la recepción a esa hora y se "
                 "puede pagar con la tarjeta?")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_translation_asked_in_thai_is_a_translation_not_a_sum() -> None:
    text = "ช่วยแปลเป็นภาษาอังกฤษหน่อย: พรุ่งนี้เราจะถึงประมาณสองทุ่ม มีที่จอดรถไหม ราคาเท่าไหร่คะ?"
    got = scored(text, tokens=estimate_tokens(text))
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_lease_clause_to_translate_formally_from_thai_needs_care() -> None:
    text = ("ช่วยแปลสัญญาข้อนี้เป็นภาษาอังกฤษแบบทางการค่ะ: ผู้เช่าต้องชำระค่าเช่าภายในวันที่ห้าของทุกเดือน "
            "หากชำระล่าช้าเกินกว่าสิบห้าวัน ผู้ให้เช่ามีสิทธิ์บอกเลิกสัญญาได้ทันทีโดยไม่ต้องแจ้งล่วงหน้า")
    got = scored(text, tokens=estimate_tokens(text))
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_a_notice_to_put_into_isan_needs_care() -> None:
    text = ("แปลงข้อความนี้เป็นภาษาอีสานให้หน่อย จะติดไว้ที่ครัว: 'ล้างจานแล้วคว่ำไว้ที่ตะแกรง "
            "อย่าทิ้งเศษอาหารลงอ่าง ปิดแก๊สทุกครั้งก่อนออกจากครัว ขอบคุณทุกคนที่ช่วยกันนะ'")
    got = scored(text, tokens=estimate_tokens(text))
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_thai_is_named_as_thai() -> None:
    assert language_of("สวัสดีค่ะ วันนี้อากาศร้อนมาก") == "th"


def test_a_poem_asked_in_turkish_is_writing() -> None:
    got = scored("babam icin emeklilik siiri yaz, 3 kita. 35 yil ogretmenlik yapti, cay ve tavla sever, "
                 "duygusal ama biraz da komik olsun")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_logic_grid_asked_in_turkish_is_a_puzzle() -> None:
    got = scored("bir bulmaca: 3 arkadas (Ayse, Mehmet, Can) pzt, sali, cars gunleri farkli sehirlere "
                 "gidiyor: Izmir, Bursa, Konya.\nipuclari:\n1. Ayse pazartesi gitmiyor.\n2. Konya'ya giden "
                 "carsamba gidiyor.\n3. Mehmet Bursa'ya gitmiyor ve Ayse'den once gidiyor.\nkim nereye ne "
                 "zaman gidiyor?")
    assert got.task_type == "reasoning" and got.tier != "fast", got.reason


def test_a_reply_to_write_in_uzbek_named_in_turkish_needs_care() -> None:
    got = scored("bu musteriye kibar bir cevap yaz, ozbekce olsun: siparisiniz yarin kargoya verilecek, "
                 "takip numarasini aksam mesaj olarak gonderecegiz, gecikme icin ozur dileriz")
    assert got.tier == "balanced" and "write less well" in got.reason, got.reason


def test_a_game_to_play_asked_in_turkish_is_role_play() -> None:
    got = scored("hadi bir dedektif oyunu oynayalim, sen 1920'lerin istanbul'unda bir polis sefi ol, ben "
                 "de suphelilerden biriyim")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_product_caption_asked_in_indonesian_is_writing() -> None:
    got = scored("tolong bikinin deskripsi produk buat tokopedia: sambal roa 200gr, pedes sedang, tanpa MSG, "
                 "tahan 3 bulan di kulkas. jangan lebay ya")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_role_to_play_asked_in_indonesian_is_role_play() -> None:
    got = scored("pura2 jadi customer yg komplain paketnya telat seminggu ya, gue mau latihan bales chat "
                 "dengan sopan. mulai aja")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_one_line_how_to_in_indonesian_is_a_lookup() -> None:
    got = scored("gimana cara ganti nama toko di shopee seller centre? udah cari di menu pengaturan tapi ga "
                 "nemu tombolnya sama sekali")
    assert got.tier == "fast", got.reason


def test_a_contract_summarised_for_what_is_risky_judges_it() -> None:
    contract = ("PERJANJIAN SEWA KIOS\nPasal 1. Penyewa wajib membayar sewa paling lambat tanggal 5 setiap "
                "bulan.\nPasal 2. Keterlambatan lebih dari 10 hari dikenakan denda 2% per hari.\nPasal 3. "
                "Pemilik dapat mengakhiri perjanjian sewaktu-waktu dengan pemberitahuan 7 hari.\nPasal 4. "
                "Renovasi menjadi milik pemilik tanpa ganti rugi.\nPasal 5. Perjanjian diperpanjang otomatis "
                "setiap tahun dengan kenaikan harga yang ditentukan pemilik.")
    got = scored("tolong ringkas perjanjian ini, mana yg berisiko buat gue?\n\n" + contract)
    assert got.task_type == "document_summary" and got.tier == "balanced", got.reason


def test_numbers_sought_under_a_condition_are_no_one_step_sum() -> None:
    got = scored("find all integers n such that n^2 + 3 divides n + 5")
    assert got.task_type == "math" and got.tier != "fast", got.reason
    indonesian = scored("tentukan semua bilangan bulat n sehingga n² + 3 habis membagi n + 5")
    assert indonesian.tier != "fast", indonesian.reason


def test_a_mechanism_of_training_explained_in_depth_is_a_technical_explanation() -> None:
    got = scored("why does batchnorm make deep nets train faster? not just 'it normalizes': what happens to "
                 "the gradients, and why does it act differently at eval time")
    assert got.tier == "balanced" and "technical explanation" in got.reason, got.reason


def test_thanks_for_exactly_what_was_missing_close_a_hard_conversation() -> None:
    context = ("user: prove that the sum of 1/(k(k+1)) for k=1..n is n/(n+1)\nassistant: write 1/(k(k+1)) "
               "as 1/k - 1/(k+1); the sum telescopes to 1 - 1/(n+1) = n/(n+1).")
    got = scored("ahh the partial fractions, that's exactly what i was missing. thanks a lot!!",
                 context=context)
    assert got.task_type == "casual_chat" and got.tier == "fast", got.reason


def test_when_the_appointment_is_in_a_short_text_is_one_value() -> None:
    got = scored("when's the appointment in this? \"Hi Mr Rahimi, this is to confirm your father's follow-up "
                 "with Dr. Chen at North York General on Monday Dec 2 at 2:40pm, Branson site, clinic B, 3rd "
                 "floor. Please arrive 20 min early with his health card.\"")
    assert got.tier == "fast" and "one value" in got.reason, got.reason


def test_the_same_text_again_in_another_language_is_a_translation_however_long_the_reason() -> None:
    context = "user: translate to farsi: your appointment is confirmed for monday at 9am, bring your card."
    got = scored("now the same in finglish, some of the older patients can't read farsi script on their "
                 "phones", context=context)
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_recurrence_to_explain_is_maths_not_a_lookup() -> None:
    got = scored("why does f(n) = f(n-1) + f(n-2) count the domino tilings? explain slowly")
    assert got.task_type == "math" and got.tier == "balanced", got.reason
    subscripts = scored("a_n = a_{n-1} + 2n and a_1 = 1, whats a_10")
    assert subscripts.tier != "fast", subscripts.reason


@pytest.mark.parametrize("prompt", [
    "in how many ways can 8 rooks be placed on a chessboard so that no two attack each other and none is "
    "on the main diagonal? exact number please",
    "Сколькими способами можно рассадить 6 человек за круглым столом так, чтобы никакие двое из трёх "
    "братьев не сидели рядом?",
    "how many positive integers n below 1000 make n^2 + n + 41 composite? justify it",
])
def test_a_competitions_counting_problem_is_deep(prompt: str) -> None:
    got = scored(prompt)
    assert got.task_type == "math" and got.tier == "deep", got.reason


def test_arranging_books_without_a_restriction_stays_a_mid_models_sum() -> None:
    got = scored("how many ways can I arrange 5 different books on a shelf")
    assert got.tier == "balanced", got.reason


def test_an_input_bound_written_up_to_asks_for_an_algorithm() -> None:
    got = scored("I have up to 2*10^5 orders (time, shop, item) and up to 2*10^5 queries (shop, t1, t2): "
                 "for each query, how many distinct items did that shop sell in [t1, t2]? my python with a "
                 "set per query is too slow")
    assert got.tier == "deep", got.reason


def test_ordered_pairs_of_integers_to_count_are_a_competitions_problem() -> None:
    got = scored("find the number of ordered pairs of integers (x, y) with x² - xy + y² = 1369, and justify "
                 "it")
    assert got.task_type == "math" and got.tier == "deep", got.reason


def test_a_letter_asked_in_hindi_is_writing() -> None:
    got = scored("मेरी सहेली सुधा को चिट्ठी लिखो। उसको बताना कि हम अगले महीने जयपुर आ रहे हैं, और उसके "
                 "बेटे की "
                 "शादी की बधाई भी देना")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_text_to_write_in_english_asked_in_hindi_is_a_translation() -> None:
    got = scored("इसे अंग्रेज़ी में लिख दो, कनाडा वाली पोती को भेजना है: बेटी, पढ़ाई के साथ खाना भी ठीक "
                 "से खाया "
                 "करो, सर्दी में गरम कपड़े पहनना और रविवार को फ़ोन ज़रूर करना")
    # (About 100 tokens of Devanagari: a long ask, a mid model's job, as for the recipe in German above.)
    assert got.task_type == "creative_writing", got.reason


def test_a_difference_asked_in_hinglish_is_a_lookup() -> None:
    got = scored("IFSC code aur MICR code mein kya farak hai? cheque pe dono kahan likhe hote hai")
    assert got.tier == "fast", got.reason


def test_devanagari_is_named_as_hindi() -> None:
    assert language_of("नमस्ते, आप कैसे हैं?") == "hi"


def test_a_mechanism_explained_in_depth_with_no_code_is_a_mid_models_job() -> None:
    got = scored("how exactly does a deadlock happen in mysql when two transfers run at the same time, A->B "
                 "and B->A? walk me through the row locks step by step, and how do we prevent it")
    assert got.task_type == "code" and got.tier == "balanced", got.reason
    assert "mechanism to explain" in got.reason, got.reason


def test_code_to_write_after_the_explanation_keeps_its_tier() -> None:
    ask = ("explain how a lock-free queue avoids the ABA problem, then write one in C++ with atomics and "
           "hazard pointers")
    assert scored(ask).tier == "deep", scored(ask).reason


def test_a_poem_asked_in_finnish_is_writing() -> None:
    got = scored("kirjoita runo naapurin Eilalle 70-vuotispäiville. se tykkää mökkeilystä ja marjastuksesta, "
                 "saa olla vähän hauska, kolme säkeistöä")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_summary_asked_in_finnish_is_a_summary() -> None:
    got = scored("tiivistä yhteen lauseeseen: Kirjasto on suljettu remontin vuoksi koko heinäkuun. Lainat "
                 "voi palauttaa pääkirjastoon, ja varaukset siirretään automaattisesti elokuulle. "
                 "Asiakaspalvelu vastaa puhelimessa arkisin kello yhdeksästä neljään.")
    assert got.task_type == "document_summary" and got.tier == "fast", got.reason


def test_a_toast_asked_in_russian_is_writing() -> None:
    got = scored("Помоги написать тост на свадьбу племянника Миши. Он программист, невеста врач, "
                 "познакомились "
                 "в походе на Кавказе. Чтобы было тепло и немного смешно")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_letter_in_yiddish_to_translate_needs_care() -> None:
    got = scored("Нашёл старое письмо бабушки на идише. Переведи, пожалуйста: «טײַערע שװעסטער, מיר זענען "
                 "געקומען געזונט קײן אַמעריקע, דער טאַטע אַרבעט שױן אין אַ שנײַדערײַ»")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_a_role_to_play_asked_in_hebrew_is_role_play() -> None:
    got = scored("תשחק מלצר עייף בסוף משמרת, ואני לקוח שמנסה להזמין שולחן לשמונה בלי הזמנה מראש. תתחיל אתה")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_hebrew_is_named_as_hebrew() -> None:
    assert language_of("שלום, מה שלומך היום?") == "he"


def test_a_one_line_how_to_in_hinglish_is_a_lookup() -> None:
    got = scored("pandas dataframe ko ek hi excel sheet mein save karna hai bina index ke, kaise karu")
    assert got.tier == "fast", got.reason


def test_a_mock_interview_is_role_play() -> None:
    got = scored("do a mock interview with me for a summer job at a garden centre, im 17. one question at a "
                 "time and tell me how i did at the end")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_ty_after_a_fix_reported_closes_the_conversation() -> None:
    context = "user: my nginx reverse proxy gives 502 for websockets\nassistant: add the Upgrade headers ..."
    got = scored("bro that actually fixed it. ty", context=context)
    assert got.task_type == "casual_chat" and got.tier == "fast", got.reason


def test_write_offs_in_a_revision_timetable_ask_no_program() -> None:
    got = scored("exams in may: Databases on 12th, Algorithms on 14th, Networks on 19th. weekends at my "
                 "nan's "
                 "are write-offs. can you make me a revision timetable from 28 april? algorithms is my worst")
    assert got.task_type != "code" and got.tier != "deep", got.reason


def test_can_someone_explain_a_mechanism_is_an_explanation() -> None:
    got = scored("can someone explain properly how the GIL actually works in CPython? when does a "
                 "thread give "
                 "it up, what happens on I/O, and why do threads doing number crunching get slower")
    assert got.task_type == "code" and got.tier == "balanced", got.reason


def test_a_notice_asked_in_urdu_is_writing() -> None:
    got = scored("ہماری گلی کے واٹس ایپ گروپ کے لیے ایک نوٹس لکھ دیں کہ ہفتے کو صبح دس بجے سے دو بجے تک "
                 "بجلی بند "
                 "رہے گی، سب لوگ اپنے فون پہلے سے چارج کر لیں")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_what_was_decided_asked_in_roman_urdu_is_a_digest() -> None:
    chat = ("[7:02 pm] Khala: shaadi ki shopping kab karni hai\n[7:05 pm] Ammi: agle hafte jumma ko\n"
            "[7:06 pm] Bhabhi: jumma ko mera office hai, hafta karein\n[7:09 pm] Ammi: theek hai hafta\n"
            "[7:10 pm] Khala: Liberty market ya Packages mall\n[7:12 pm] Bhabhi: Liberty, wahan sasta hai\n"
            "[7:15 pm] Ammi: chalo Liberty, 11 baje nikalna hai")
    got = scored("family group ka scene hai, bas batao finally kya decide hua:\n\n" + chat)
    assert got.task_type == "document_summary" and got.tier == "fast", got.reason


def test_a_word_written_twice_in_a_list_counts_once() -> None:
    assert all(len(set(signals)) == len(signals) for signals in scorer_module._VOCAB.values())


def test_a_proof_asked_in_hungarian_is_a_proof() -> None:
    got = scored("Bizonyítsd be, hogy ha n pozitív egész, akkor n^5 - n mindig osztható 30-cal, és mutasd "
                 "meg, hol használod a kis Fermat-tételt.")
    assert got.task_type in ("math", "reasoning") and got.tier == "deep", got.reason


def test_a_poem_asked_in_hungarian_is_writing() -> None:
    got = scored("írj egy rövid verset a keresztanyámnak a 60. szülinapjára, imádja a kertjét meg a két "
                 "macskáját, legyen benne egy kis humor is")
    assert got.task_type == "creative_writing" and got.tier == "fast", got.reason


def test_a_summary_asked_in_hungarian_is_a_summary() -> None:
    got = scored("foglald össze két mondatban: A könyvtár július végéig zárva tart felújítás miatt. A "
                 "kölcsönzött könyveket a központi könyvtárba lehet visszavinni, a foglalások automatikusan "
                 "augusztusra tolódnak. Az ügyfélszolgálat hétköznap kilenctől négyig telefonon elérhető.")
    assert got.task_type == "document_summary" and got.tier == "fast", got.reason


def test_a_rota_under_rules_asked_in_hungarian_is_constraint_satisfaction() -> None:
    got = scored("Kéne egy heti ügyeleti beosztás 5 nővérre: Anna, Bea, Csilla, Dóra, Edit. Minden nap "
                 "pontosan 1 nappalos és 1 éjszakás kell. Szabályok:\n- mindenki legfeljebb 3 "
                 "szolgálatot visz\n- éjszakás után másnap senki nem lehet nappalos\n- Anna kedden nem "
                 "dolgozhat, Dóra hétvégén soha\n- Bea és Edit nem lehetnek ugyanazon a napon\n"
                 "Adj egy beosztást táblázatban.")
    assert got.tier == "deep", got.reason


def test_a_minimum_to_prove_minimal_is_a_proof() -> None:
    got = scored("An 8-litre jug is full of water; a 5-litre and a 3-litre jug are empty. Split the water "
                 "into two equal halves of 4 litres. What is the fewest number of pours, and why can't it "
                 "be done in fewer?")
    assert got.tier == "deep" and "prove" in got.reason, got.reason


def test_a_long_text_at_stakes_to_translate_needs_care() -> None:
    got = scored("translate into english for my dad's new GP please: Entlassungsbrief. Der Patient wurde "
                 "wegen einer Lungenentzündung stationär behandelt. Die Antibiose mit Amoxicillin wird noch "
                 "fünf Tage fortgesetzt, dreimal täglich 1000 mg. Marcumar bleibt pausiert bis zur "
                 "INR-Kontrolle am Montag beim Hausarzt; bei Fieber über 38,5 Grad, Atemnot oder "
                 "Blutungen bitte sofort vorstellen. Kontrolle des Röntgenbilds in sechs Wochen, danach "
                 "Vorstellung in der pneumologischen Ambulanz.")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_a_short_phrase_at_stakes_to_translate_stays_fast() -> None:
    got = scored("how do you say in italian: 'i am allergic to penicillin, please tell the doctor'")
    assert got.tier == "fast", got.reason


def test_greek_words_are_not_pi() -> None:
    got = scored("Πάμε Πήλιο το Σαββατοκύριακο με τα παιδιά. Πού να μείνουμε και τι να δούμε;")  # noqa: RUF001
    assert got.task_type != "math", got.reason


def test_pi_as_a_symbol_is_still_maths() -> None:
    got = scored("a circle has circumference 10π cm, what is its area?")
    assert got.task_type == "math", got.reason


def test_a_scheduler_under_constraints_asked_in_romanian_is_constraint_satisfaction() -> None:
    got = scored("Vrem un generator de ture pentru garda la spital. Constrangeri:\n- 9 rezidenti, fiecare "
                 "face cel mult 6 garzi pe luna\n- nimeni nu face doua garzi la rand\n- in weekend trebuie "
                 "mereu un rezident senior\n- concediile vin ca intervale de date\nScrie-l in Python fara "
                 "solver extern si explica-mi de ce algoritmul tau gaseste o solutie daca exista una.")
    assert got.tier == "deep", got.reason


def test_a_one_line_how_to_in_romanian_is_a_lookup() -> None:
    got = scored("cum schimb portul default la ssh pe ubuntu?")
    assert got.tier == "fast", got.reason


def test_a_weighing_puzzle_is_a_puzzle() -> None:
    got = scored("I have 8 marbles and one is slightly heavier. Using a balance scale only twice, how do I "
                 "find it? Give the full plan, including what to do after each result.")
    assert got.task_type == "reasoning" and got.tier == "deep", got.reason


def test_a_segfault_in_an_allocator_is_deep() -> None:
    got = scored("my toy allocator segfaults in free() after a while, first fit with a free list:\n\n"
                 "void my_free(void *p) {\n    blk *b = (blk *)((char *)p - sizeof(size_t));\n"
                 "    b->next = free_list;\n    free_list = b;\n    coalesce(b);\n}\n")
    assert got.tier == "deep", got.reason


def test_a_translation_for_a_summary_is_a_translation() -> None:
    got = scored("Translate into Swedish for the client's Swedish summary, standard structural terms, not "
                 "literal: \"The measured deflections of the two monitored beams were used to update the "
                 "model, and the utilisation of the unmonitored connections was derived from it. The "
                 "remaining service life is estimated at 18 to 26 years against a required 40, so "
                 "strengthening of the lower flange is recommended before the next inspection.\"")
    assert got.task_type == "creative_writing" and got.tier == "balanced", got.reason


def test_a_translation_asked_professionally_needs_care() -> None:
    got = scored("Przetłumacz na angielski, profesjonalnie, jak piszą firmy: 1. Oferta ważna 14 dni. "
                 "2. Ceny nie obejmują materiałów budowlanych, chyba że zaznaczono inaczej. 3. Prace "
                 "dodatkowe rozliczane są według stawki godzinowej po uzgodnieniu z klientem. 4. Płatność "
                 "7 dni od daty faktury.")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_a_warning_at_stakes_to_translate_in_simple_words_stays_fast() -> None:
    got = scored("translate to spanish, simple words, it's for my mum's church group: \"Warning: people are "
                 "getting calls from 'the bank' saying there is a problem with their pension and they must "
                 "read out the code they get by text. This is a scam. Banks never ask for codes on the "
                 "phone. Never give the 6-digit code to anyone, even if they say they are from the bank or "
                 "the police. If you already did, call your bank on the number on your card.\"")
    assert got.tier == "fast", got.reason


def test_a_proof_asked_in_czech_is_a_proof() -> None:
    got = scored("Najdi vsechny funkce f: R -> R, pro ktere f(x + y) = f(x) + f(y) a f(xy) = f(x)f(y) pro "
                 "vsechna realna x, y. Spoluzak z olympiady rika, ze jsou jen dve, napis uplny dukaz.")
    assert got.tier == "deep", got.reason


def test_a_counting_problem_asked_in_czech_is_a_competition_count() -> None:
    got = scored("kolika zpusoby muzu rozdelit 10 stejnych jablek mezi 3 deti, kdyz kazde dostane aspon 2 "
                 "a nikdo vic nez 5? chci postup")
    assert got.tier == "deep", got.reason


def test_a_fixture_under_restrictions_asked_in_spanish_is_constraint_satisfaction() -> None:
    got = scored("armame el calendario del torneo de padel: 6 parejas, todos contra todos, 5 fechas, 3 "
                 "partidos por fecha en 2 canchas a las 19 y a las 20.\n\nrestricciones:\n- la pareja A no "
                 "puede a las 19 en las fechas 1 y 3\n- B y C comparten un jugador, nunca a la misma hora\n"
                 "- ninguna pareja juega mas de 2 fechas seguidas a las 19\n- la final entre A y D va en la "
                 "fecha 5 a las 20\nmostrame el calendario y una tabla que verifique cada restriccion")
    assert got.tier == "deep", got.reason


def test_an_inference_mechanism_explained_is_a_technical_explanation() -> None:
    got = scored("explain speculative decoding: how does a small draft model make the big one faster, and "
                 "why is the output the same?")
    assert got.tier == "balanced", got.reason


def test_a_legal_translation_asked_in_czech_needs_care() -> None:
    got = scored("Přelož do angličtiny tento článek smlouvy, musí to být právně přesné: „Nájemce je povinen "
                 "hradit nájemné vždy do pátého dne příslušného měsíce. V případě prodlení je pronajímatel "
                 "oprávněn požadovat smluvní pokutu ve výši 0,1 % z dlužné částky za každý den prodlení.“")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_a_long_letter_at_stakes_is_not_for_the_smallest_model() -> None:
    got = scored("Write a letter to my landlord about the deposit. We moved out on 30 June after three "
                 "years, left the flat cleaned, and have the check-out photos. He is keeping 650 of the "
                 "1,200 for 'repainting and carpet wear'. The tenancy agreement says normal wear and tear "
                 "is excluded and the carpet was already eight years old. I want the money back within 14 "
                 "days or I will go to the deposit protection scheme, but I want to stay polite.")
    assert got.tier == "balanced" and "stakes" in got.reason, got.reason


def test_explain_as_the_first_word_is_no_rewrite_of_the_formal_material() -> None:
    got = scored("explain the difference between BM25 and dense retrieval, and why hybrid search helps on "
                 "german tax rulings (section numbers, court names, long formal paragraphs)")
    assert got.task_type != "creative_writing" and got.tier == "balanced", got.reason


def test_whats_the_takeaway_asks_for_a_summary() -> None:
    got = scored("forum thread on my 3d printer, what's the takeaway? I don't want to read 4 pages\n\n"
                 "user bedslinger: first layer keeps lifting at the corners on PETG, tried 80C bed.\n"
                 "user nozzlehead: clean the PEI with dish soap, IPA leaves a film. also drop the fan to 0 "
                 "for the first 3 layers.\nuser bedslinger: soap fixed it, thanks. fan change helped too.\n"
                 "user z_offset: also check your z offset, 0.05 mm too high does exactly this.")
    assert got.task_type == "document_summary", got.reason


def test_takeaway_cups_on_an_invoice_are_no_summary() -> None:
    got = scored("how many takeaway cups did we order in total? 12oz 1000 x 4, 8oz 500 x 6")
    assert got.task_type != "document_summary", got.reason


def test_a_piece_asked_in_bengali_script_needs_care() -> None:
    got = scored("আজ সকালে বৃষ্টিতে রিকশা পাইনি, অফিসে দেরি হয়ে গেল। এই নিয়ে একটা ছোট মজার গল্প লিখে দাও, "
                 "১৫০ শব্দের মধ্যে।")
    assert got.task_type == "creative_writing" and got.tier == "balanced", got.reason
    assert "write less well" in got.reason, got.reason


def test_a_piece_asked_in_thai_script_stays_fast() -> None:
    got = scored("ช่วยเขียนกลอนสั้นๆ อวยพรวันเกิดแม่ให้หน่อย")
    assert got.tier == "fast", got.reason


def test_what_could_bite_me_in_a_contract_is_a_judgement() -> None:
    contract = ("1. The supplier delivers 20 kg of beans per month at CHF 24.50 per kg. 2. The machine is "
                "lent free of charge while the customer buys 18 kg per month; below that, a rental of CHF 95 "
                "per month applies. 3. The term is 36 months and renews by 12 months if not cancelled 6 "
                "months before its end. 4. Service visits are included twice a year; further visits cost "
                "CHF 140 each. 5. On early termination the customer pays the residual value of the machine.")
    got = scored("New supplier contract for our coffee. Please summarise the main obligations and tell me "
                 "honestly what could bite me. I sign on Monday.\n\n" + contract)
    assert got.tier == "balanced" and "judgement" in got.reason, got.reason


def test_are_they_logically_valid_is_a_puzzle() -> None:
    got = scored("my aunt made two arguments at dinner, are they logically valid?\n1. \"Everyone who passed "
                 "the exam studied. Sara studied. So Sara passed.\"\n2. \"If it rained, the match was "
                 "cancelled. The match was not cancelled. So it did not rain.\"")
    assert got.task_type == "reasoning" and got.tier == "balanced", got.reason


def test_what_a_clause_means_for_us_in_plain_english_is_a_judgement() -> None:
    clause = ("7.2 Liquidated Damages. If the Contractor fails to achieve Completion by the Date for "
              "Completion, the Contractor shall pay the Employer liquidated damages at the rate of 0.1% of "
              "the Contract Price per day of delay, up to a maximum of 10% of the Contract Price, without "
              "prejudice to the Employer's right to terminate under Clause 15.2 once the maximum is "
              "reached. Payment of such damages shall not relieve the Contractor of its obligation to "
              "complete the Works.")
    got = scored("explain in plain english what this clause means for us (we are the contractor), 4-5 "
                 "sentences:\n\n" + clause)
    assert got.task_type == "document_summary" and "judgement" in got.reason, got.reason


def test_explain_opening_keeps_a_summaries_subject_out_of_summary() -> None:
    got = scored("explain prometheus histograms vs summaries: why can you not aggregate summary quantiles "
                 "across instances, and what is histogram_quantile doing with the buckets")
    assert got.task_type != "document_summary" and got.tier == "balanced", got.reason


def test_a_clause_to_write_in_plain_english_is_no_plain_words_summary() -> None:
    got = scored("clients keep treating 'two rounds of revisions' as unlimited small tweaks. write me a "
                 "revisions clause for my contract template that defines a round, what happens with feedback "
                 "from several people, what counts as a new request, and the hourly rate after that. keep it "
                 "in plain english, no legalese")
    assert got.task_type != "document_summary" and got.tier == "balanced", got.reason


def test_a_loan_letter_in_french_is_a_text_at_stakes() -> None:
    got = scored("Aide-moi à écrire un email à mon conseiller bancaire pour demander un report de 3 "
                 "mensualités de mon prêt immobilier et un allongement de la durée. Raison : des travaux "
                 "imprévus après un dégât des eaux, la maison est en partie inhabitable depuis mars et notre "
                 "assurance ne rembourse qu'une partie. Je veux rester poli mais clair, rappeler que nous "
                 "n'avons jamais eu de retard en huit ans, et proposer un rendez-vous la semaine prochaine.")
    assert got.tier == "balanced" and "stakes" in got.reason, got.reason


@pytest.mark.parametrize(("text", "language"), [
    ("szia, hogy vagy? nem tudom, mit kell ma főzni", "hu"),
    ("Καλησπέρα, τι κάνεις;", "el"),
    ("ahoj, prosím tě, nevíš jestli je to pravda, že jsou dnes zavřené obchody?", "cs"),
    ("আজ সকালে বৃষ্টি হয়েছে। তুমি কেমন আছ?", "bn"),
    ("Mẹ ơi, cuối tuần này nhà mình có về quê không? Con cần biết để xin nghỉ làm.", "vi"),
    ("엄마, 이번 주말에 할머니 댁에 가요?", "ko"),
    ("vad är det för fel på min cykel, den gnisslar och jag har inte tid att laga den", "sv"),
    ("hvordan får jeg printeren til å virke igjen, den vil ikke koble til wifi", "no"),
    ("hvad skal jeg gøre med min gamle telefon, den virker ikke og jeg har en ny", "no"),
])
def test_a_language_is_named_by_its_stop_words_or_script(text: str, language: str) -> None:
    """Bengali is Bengali, not Hindi, though it borrows Devanagari's danda."""
    assert language_of(text) == language


def test_a_piece_to_write_with_several_rules_is_for_a_mid_model() -> None:
    """Following every instruction is where small models slip; the writing itself is not."""
    got = scored("write the welcome note for our allotment society newsletter:\n- mention the new water "
                 "butts and the shed rota\n- keep it under 150 words\n- no exclamation marks\n- sign off "
                 "from the committee")
    assert got.task_type == "creative_writing" and got.tier == "balanced", got.reason
    plain = scored("write a short welcome note for our allotment society newsletter")
    assert plain.tier == "fast", plain.reason


def test_statistical_results_to_read_are_for_a_mid_model_even_in_plain_words() -> None:
    got = scored("what do I tell the parish council about this in plain language? outcome is weekly "
                 "library visits\n\n            Estimate Std. Error t value Pr(>|t|)\n"
                 "(Intercept)   41.20      3.10   13.29   <2e-16\n"
                 "open_sunday    6.75      2.02    3.34   0.0011\n"
                 "rain_mm       -0.41      0.19   -2.16   0.0330\n\nMultiple R-squared: 0.214")
    assert got.tier == "balanced" and "statistical results" in got.reason, got.reason
    everyday = scored("summarise in plain words: we estimate the repair at 400 pounds, give or take 50")
    assert everyday.tier == "fast", everyday.reason


def test_a_korean_word_problem_is_maths_and_korean_small_talk_stays_small() -> None:
    """Korean glues its endings to the stem ("얼마예요"): its maths words are found as substrings."""
    got = scored("사과 한 개에 1,200원이고 배는 사과보다 800원 더 비싸요. "
                 "사과 3개와 배 2개를 사면 모두 얼마예요?")
    assert got.task_type == "math" and got.tier != "fast", got.reason
    chat = scored("안녕하세요, 오늘 날씨 정말 좋네요")
    assert chat.tier == "fast", chat.reason


@pytest.mark.parametrize("prompt", [
    "what does this postcard from my aunt say in English? 'Tha sinn gu math. Bha an aimsir brèagha agus "
    "chaidh sinn dhan tràigh aig Port Rìgh.'",
    "¿cómo se dice en náhuatl 'gracias por la comida, abuelita'? es para una tarjeta",
    "what's this in english, my uncle's message: 'Ọ dị mma. Anyị ga-abịa n'ụbọchị Sọnde, biko kwadebe nri.'",
])
def test_a_text_in_a_language_small_models_read_less_well_is_for_a_mid_model(prompt: str) -> None:
    """Gaelic by its function words, Igbo by its dotted vowels, Nahuatl named "en náhuatl"."""
    got = scored(prompt)
    assert got.tier == "balanced" and "less well" in got.reason, got.reason


@pytest.mark.parametrize("prompt", [
    "pls translate into english, tito's text is in ilocano: 'Naimbag nga aldaw! Umaykami inton Domingo, "
    "agluto ka iti pinakbet.'",
    "translate my aunt's kapampangan message for me: 'Mayap a abak! Munta ku keni bukas.'",
])
def test_a_translation_from_a_philippine_language_beside_tagalog_is_for_a_mid_model(prompt: str) -> None:
    assert scored(prompt).tier == "balanced", scored(prompt).reason


_BENEFIT_LETTER = ("\n\n\"Dear Mr Santos, we have reviewed your eligibility for the housing benefit "
                   "for the period April 2025 to March 2026. Your monthly payment will change from $412.50 "
                   "to $377.20 from May because your reported income increased. You may ask for a review in "
                   "writing within 60 days of this letter; include the documents that support it.\"")


@pytest.mark.parametrize("ask", [
    "Pa-translate naman into Tagalog para kay Lolo, keep the amounts exact and explain 'review' in simple "
    "words in brackets:",
    "Please translate this into Tagalog for my dad and explain the benefit in plain words in brackets:",
])
def test_a_letter_to_translate_into_tagalog_with_a_gloss_is_a_translation(ask: str) -> None:
    got = scored(ask + _BENEFIT_LETTER)
    assert (got.task_type, got.tier) == ("creative_writing", "balanced"), got.reason


@pytest.mark.parametrize("prompt", [
    "how do I type Gaelic accents like à and ò on my iPad?",
    "Wir fahren nach Berlin und dann nach Hamburg, was sollen wir nach dem Essen machen?",
])
def test_a_language_named_or_german_nach_is_no_text_in_a_rare_language(prompt: str) -> None:
    assert scored(prompt).tier == "fast", scored(prompt).reason


def test_a_summary_refused_is_not_the_ask() -> None:
    got = scored("don't summarise, I need every line in english: \"Querido hijo, te escribo porque tu tía "
                 "Carmen quiere vender la casa del pueblo. Dice que los papeles están en orden y que el "
                 "notario nos espera el día 12. Yo no estoy segura. Llámame cuando puedas. Un beso, mamá\"")
    assert got.task_type != "document_summary", got.reason


def test_a_long_ask_of_its_own_leaves_the_smallest_model() -> None:
    """The more material and instructions in the ask itself, the more a small model drops one."""
    email = ("Hello, I booked the cottage for the week of the 14th and we arrived late on Saturday "
             "after a long drive from Leeds. The key box code you sent did not work, so we waited in the "
             "car for an hour before your neighbour let us in. The heating was off and took most of the "
             "evening to warm the place up, and the wifi password on the card in the kitchen was the old "
             "one. On Monday the shower stopped draining, and the plumber you sent was very kind but could "
             "only come on Wednesday. We still had a lovely time walking by the lake and the children loved "
             "the garden, but I wanted you to know, and I would like to ask whether a partial refund is "
             "possible. ")
    got = scored("write a polite reply to this guest email from me, the owner:\n\n" + email)
    assert got.tier == "balanced" and "a long ask" in got.reason, got.reason
    short = scored("write a polite reply to a guest who says the wifi password on the card was wrong")
    assert short.tier == "fast", short.reason
    plain = scored("explain this email to my grandad in simple words:\n\n" + email)
    assert plain.tier == "fast", plain.reason


@pytest.mark.parametrize("prompt", [
    "translate this toast into Spanish for my in-laws, keep the humour and don't do it word for word: 'They "
    "say marriage is a workshop: he works, she shops. Tonight we raise a glass to twenty years of both.'",
    "translate this line of Rumi into English and add a word-by-word gloss: 'Ey del, ey del, che shodi'",
    "traduis cette comptine en anglais en gardant le rythme et les rimes, c'est pour la chorale des petits : "
    "« Une poule sur un mur, qui picore du pain dur, picoti, picota, lève la queue et puis s'en va »",
])
def test_a_translation_that_keeps_humour_rhythm_or_rhyme_needs_care(prompt: str) -> None:
    got = scored(prompt)
    assert got.tier == "balanced" and "precision" in got.reason, got.reason


def test_an_indonesian_probability_or_significance_question_is_maths() -> None:
    got = scored("dari 6 kelereng merah dan 4 biru diambil 2 sekaligus. peluang keduanya biru berapa?")
    assert got.task_type == "math" and got.tier != "fast", got.reason
    test = scored("toko A: 200 pengunjung, 30 beli. toko B: 180 pengunjung, 36 beli. bedanya signifikan "
                  "secara statistik ga?")
    assert test.task_type == "math" and test.tier != "fast", test.reason


def test_a_letter_about_money_owed_or_earned_is_a_text_at_stakes() -> None:
    got = scored("write an email to the school's accounts office. our invoice for the spring term's music "
                 "lessons is now 45 days overdue and two reminders went unanswered. I teach there every "
                 "Tuesday and I would like to keep doing so, and I need the payment to carry on. The head "
                 "of music has always been kind to me and I want her to feel no blame for this at all.")
    assert got.tier == "balanced" and "stakes" in got.reason, got.reason
    short = scored("write a two-line reminder that the invoice is overdue")
    assert short.tier == "fast", short.reason


def test_a_tldr_is_a_brief_summary() -> None:
    text = ("tldr pls\n\n" + "The residents' association met on Tuesday to discuss "
            "the parking changes. After a long debate the committee agreed to ask the council for permits "
            "on the three streets nearest the station, to survey residents in January, and to hold a "
            "second meeting in February before anything is decided. Members may send comments by email. " * 2)
    got = scored(text)
    assert got.tier == "fast" and got.task_type == "document_summary", got.reason


def test_a_short_swedish_ask_is_read_like_a_short_english_one() -> None:
    """Swedish, Norwegian and Danish are no longer "cannot tell" languages biased up from 16 words:
    small models read them as well as Dutch or German, and the scorer reads their maths words."""
    got = scored("hur kopplar jag in min nya skrivare till wifi hemma? den hittar inte nätverket och "
                 "jag har redan startat om routern två gånger")
    assert got.tier == "fast" and "language sv" in got.reason, got.reason
    sums = scored("beräkna hur mycket vi sparar per år om elpriset sjunker från 2,10 kr till 1,65 kr per "
                  "kWh och vi gör av med 14 000 kWh om året, och hur lång tid tills solcellerna för "
                  "95 000 kr har betalat sig")
    assert sums.task_type == "math" and sums.tier != "fast", sums.reason


@pytest.mark.parametrize(("prompt", "language"), [
    ("hogyan lesz puha a kakaós csiga? nálam mindig kemény marad a széle, pedig fél órát kelesztem és "
     "letakarom egy konyharuhával", "hu"),
    ("làm sao để hoa lan của mình ra hoa lại được không? năm nay nó chỉ ra lá thôi", "vi"),
])
def test_a_short_hungarian_or_vietnamese_ask_is_read_like_a_short_english_one(prompt: str,
                                                                             language: str) -> None:
    got = scored(prompt)
    assert got.tier == "fast" and f"language {language}" in got.reason, got.reason


def test_show_that_in_a_pasted_statement_asks_for_no_proof() -> None:
    """"Our records show that ...", "we further show that ...": a letter's or an abstract's claim."""
    letter = scored("what does this letter mean for me, in simple words?\n\n\"Dear member, our records show "
                    "that your annual confirmation is overdue. Under the scheme rules, payments are "
                    "suspended after 60 days and resume once you confirm, with arrears paid in full. You "
                    "may confirm at any branch or online.\"")
    assert "prove" not in letter.reason and letter.tier != "deep", letter.reason
    proof = scored("show that the sum of two odd numbers is always even")
    assert "prove" in proof.reason and proof.tier == "deep", proof.reason


def test_ga_is_a_rare_language_only_when_named_after_in() -> None:
    """Ga, of Accra, is a language small models garble; alone, "ga" is Indonesian slang for "not"."""
    got = scored('how do i say "thank you, may God bless you" in Ga? she always prays for me')
    assert got.tier == "balanced" and "language" in got.reason, got.reason
    slang = scored("translate ke english dong, santai aja: \"gw ga bisa dateng besok, sorry banget ya, "
                   "lain kali deh\"")
    assert slang.tier == "fast", slang.reason


def test_a_saying_in_a_rare_language_is_for_a_mid_model() -> None:
    """Its meaning and when people use it are where small models invent."""
    got = scored('what does this yoruba proverb mean and when do people say it? "Agbajo owo ni a fi n '
                 'soya." my grandfather says it at every family meeting')
    assert got.tier == "balanced" and "language" in got.reason, got.reason
    named = scored("my grandmother speaks yoruba, what should i bring her when i visit next week?")
    assert named.tier == "fast", named.reason


def test_a_poem_to_translate_as_a_poem_needs_care() -> None:
    got = scored("translate into English for my aunt's memorial, it should read like a poem and not "
                 "like a machine translation:\n\nNo te rindas, aún estás a tiempo\n"
                 "de alcanzar y comenzar de nuevo,\naceptar tus sombras, enterrar tus miedos")
    assert got.tier == "balanced" and "precision" in got.reason, got.reason
    plain = scored('translate into English: "No te rindas, aún estás a tiempo"')
    assert plain.tier == "fast", plain.reason


def test_a_kikuyu_saying_is_read_by_its_tilded_vowels() -> None:
    got = scored('grandma says "Mũtĩ ũtarĩ mũgũnda ndũgĩaga na maciaro" when we waste time. what does '
                 "it mean and what is the english equivalent?")
    assert got.tier == "balanced" and "read and write less well" in got.reason, got.reason
    vietnamese = scored("Mẹ ơi, con cũng nghĩ vậy, cuối tuần mình về quê nhé")
    assert vietnamese.tier == "fast", vietnamese.reason


@pytest.mark.parametrize("text", [
    "hacé de Astor Piazzolla y contame cómo fue tocar el bandoneón en París en los años cincuenta, "
    "y decime si extrañabas Buenos Aires o no tanto jajaja",
    "traducime al portugués para mandarle a la vecina: \"Querida Marta, muchas gracias por las plantas, "
    "ya las puse en el balcón y están preciosas. Te debo un café el domingo, un beso grande\"",
])
def test_a_rioplatense_ask_with_vos_is_read_like_one_with_tu(text: str) -> None:
    """"Traducime", "hacé de", "escribime": the same asks as "tradúceme", "haz de", "escríbeme"."""
    got = scored(text)
    assert got.tier == "fast" and "cannot tell" not in got.reason, got.reason


def test_a_text_in_lingala_is_read_by_its_function_words() -> None:
    got = scored('traduis en français stp, c\'est ma tante:\n\n"Mwana na ngai, nazali kosepela mpo na '
                 'nouvelle oyo. Yebisa mama na yo ete tokoya lobi. Nzambe apambola yo."')
    assert got.tier == "balanced" and "language" in got.reason, got.reason
    greeting = scored("mbote! ozali malamu lelo?")
    assert greeting.tier == "fast", greeting.reason


def test_a_fraction_is_one_number() -> None:
    """"3/4 + 2/3" is two fractions to add, not four figures of a word problem."""
    got = scored("quanto fa 3/4 + 2/3? e perché non posso sommare sopra e sotto")
    assert got.tier == "fast" and "word problem" not in got.reason, got.reason
    problem = scored("Lisa bought 3 bags of 2/3 kg flour and used 5/6 kg. How many kg are left?")
    assert problem.tier == "deep" and "word problem" in problem.reason, problem.reason


def test_a_functional_equation_is_a_competition_problem() -> None:
    got = scored("from the team selection sheet, full solution pls:\n\nFind all functions f: R -> R such "
                 "that\nf(x + y) = f(x) + f(y) + 2xy\nfor all real x, y.")
    assert got.tier == "deep" and "advanced maths" in got.reason, got.reason
    code = scored("find all functions in this file that are never called and list them")
    assert code.tier != "deep", code.reason


def test_a_text_in_wolof_is_read_by_its_function_words() -> None:
    got = scored('traduis en français stp, c\'est le vocal de tonton:\n\n"Aminata, jàmm nga am? Dama la '
                 'bëggoon wax ne dinga ñëw ci dibéer ngir seetsi maam."')
    assert got.tier == "balanced" and "language" in got.reason, got.reason
    indonesian = scored("gw sama temen2 mau ke bandung besok, enaknya naik kereta atau travel ya?")
    assert indonesian.tier == "fast", indonesian.reason


def test_an_angle_asked_in_korean_is_maths() -> None:
    """"직각", a right angle: a clock-hands count is a puzzle, not a fact."""
    got = scored("시계 바늘이 12시간 동안 직각이 되는 횟수는? 이유도 설명해줘")
    assert got.task_type == "math" and got.tier != "fast", got.reason


@pytest.mark.parametrize(("ask", "found"), [
    ("find all positive integers n such that n^2 + 1 divides n + 3", True),
    ("count the ordered pairs (a, b) with a + b = 10", True),
    ("how many pairs of integers satisfy x^2 - y^2 = 45?", True),
    ("how many integer solutions does x + y + z = 10 have?", True),
    ("how many ways can 8 rooks be placed so that no two attack each other?", True),
    ("nonpositive integers are allowed in the input", False),
    ("sum the unordered pairs in this list", False),
    ("the pairs of integer ids in this csv are always sorted", False),
    # the same conditions in other languages
    ("add meg az összes pozitív egész n-et, amelyre n^2 + 7 osztható n + 1-gyel", True),
    ("bestimme alle positiven ganzen zahlen n, für die n^2 + 7 durch n + 1 teilbar ist", True),
    ("trouver tous les couples d'entiers strictement positifs (a, b) tels que a^2 = b^3 + 1", True),
    ("¿cuántas soluciones enteras tiene x + y + z = 10?", True),
    ("cuantas soluciones enteras tiene x + y + z = 10", True),  # (ASCII: found by its stem)
    ("решите в целых числах уравнение 2^x + 1 = y^2", True),
    ("wie viele ganze zahlen liegen zwischen 3 und 9?", False),  # (counting, not a condition to solve)
    ("les entiers sont rangés par ordre croissant dans ce fichier", False),
    ("a függvény egész számot ad vissza", False),
])
def test_a_competitions_counting_problem_is_found_where_it_was(ask: str, found: bool) -> None:
    """The counting-problem check looks for its literals first and at what comes before them after."""
    assert scorer_module._competition_count(ask) is found


# The single patterns the phrase sets replaced (each opened on a word boundary or a group of alternatives,
# so the engine tried it at every position): the phrase sets must find what these find.
_AS_ONE_PATTERN = {
    "_BRIEF": r"\bin (?:one|two|three|a|1|2|3) (?:short )?"
              r"(?:sentences?|lines?|bullets?(?: points)?|bullet points?)\b|"
              r"\bkurz\b|nur das wichtigste|\ben bref\b|\bbrièvement\b|\bin poche (?:righe|parole)\b|"
              r"\bbrevemente\b|\ben pocas palabras\b|\bem poucas palavras\b|\bin het kort\b|"
              r"\bbriefly\b|\bjust the gist\b|\btl;?dr\b|"
              r"\b(?:em|en|in) (?:uma|duas|três|tres|una|dos|deux|trois|zwei|drei|due|tre|1|2|3) "
              r"(?:linhas?|frases?|líneas?|lineas?|lignes?|phrases?|sätzen|zeilen|righe|bullets?|tópicos|"
              r"pontos|puntos|punti|points|punkten)\b|"
              r"\bσε (?:μία|μια|δύο|δυο|τρεις|1|2|3) "  # noqa: RUF001 (Greek)
              r"(?:γραμμές|γραμμή|κουκκίδες|προτάσεις|πρόταση)|\bμε (?:δύο|δυο) λόγια",
    "_NAMING": r"\b(?:funny|cool|good|catchy|cute|clever|fun|nice|short|creative) names? (?:ideas? )?for\b|"
               r"\bname ideas\b|\bnoms? (?:rigolos?|drôles?|sympas?|originaux|original) pour\b|"
               r"\bnombres? (?:divertidos?|graciosos?|originales?|bonitos?) para\b|\bnamensideen\b|"
               r"\bnomi? (?:divertent[ei]|simpatic[oi]|originali?) per\b|\bleuke namen? voor\b",
    "_ARGUMENT": r"(?:argument|arguments|inference|conclusion|reasoning)(?: is| was| are)?"
                 r"(?: logically)? (?:valid|invalid|sound)\b"
                 r"|(?:that|this|it|they|these|both)(?: is| was| are| were)?(?: logically)? "
                 r"(?:valid|invalid)\b"
                 r"|\bare (?:they|these|both|the arguments)(?: logically)? (?:valid|invalid|sound)\b",
    "_CARD_THING": r"\b(?:debit|credit|bank|sim|sd|microsd|graphics|video|sound|network|memory|id|"
                   r"gift|loyalty|smart|key|access|aadhaar|pan|ration|health|insurance|business|"
                   r"prepaid|travel|oyster|contactless) ?cards?\b|\bcard (?:number|details|reader|payment)",
    "_PROOF_PHRASE": r"(?:by|strong|mathematical|structural|complete|use|using) induction|"
                     r"induct(?:ion|ive) (?:on |over |step|hypothesis|case)|demonstrate that|"
                     r"derive (?!from)|(?:by|to a|reach a|get a|obtain a) contradiction|"
                     r"\b(?:com|con|avec|mit|con la|com a) (?:prova|prueba|preuve|beweis|dimostrazione)\b|"
                     r"\b(?:can'?t|cannot|can not|couldn'?t)(?: it| this)? be "
                     r"(?:done |solved )?(?:in|with) fewer|"
                     r"nem (?:megy|lehet) kevesebből",
    "_QUANTITY_ASKED": r"how (?:many|much|long|far|old)\b|\b(?:calculate|work out)\b",
}
# Words and glue to build texts from: the phrases' own words, words that hold them ("within", "unfunny",
# "usd", "recalculate"), and what may stand between.
_PHRASE_WORDS = ("in", "within", "2", "two", "a", "short", "sentences", "lines", "bullet", "points", "kurz",
                 "en", "bref", "em", "duas", "linhas", "tldr", "tl;dr", "funny", "unfunny", "fun", "names",
                 "name", "ideas", "for", "argument", "arguments", "is", "are", "they", "this", "it",
                 "logically",
                 "valid", "invalid", "sound", "sd", "usd", "microsd", "sim", "card", "cards", "number", "by",
                 "strong", "induction", "con", "prueba", "cannot", "be", "done", "fewer", "contradiction",
                 "to", "reach", "how", "many", "calculate", "recalculate", "work", "out")


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(_PHRASE_WORDS),
                          st.sampled_from((" ", " ", "", "-", ".", "_", "x"))), max_size=12),
       st.integers(0, 6))
def test_phrase_sets_find_what_their_single_patterns_found(parts: list[tuple[str, str]], pos: int) -> None:
    """A phrase set is a cost change only: what it finds, at any start, is what the one pattern found."""
    text = "".join(word + glue for word, glue in parts)
    for name, pattern in _AS_ONE_PATTERN.items():
        found = getattr(scorer_module, name).search(text, pos) is not None
        assert found is (re.compile(pattern).search(text, pos) is not None), (name, text, pos)


@pytest.mark.parametrize(("name", "text", "found"), [
    ("_BRIEF", "summarise this in 2 sentences", True),
    ("_BRIEF", "summarise this within 2 sentences", False),  # "in" must begin a word
    ("_NAMING", "funny names for our chickens", True),
    ("_NAMING", "unfunny names for our chickens", False),  # the word before the literal must begin a word
    ("_ARGUMENT", "is the argument invalid?", True),
    ("_ARGUMENT", "an invalid argument error", False),
    ("_CARD_THING", "my sd card is full", True),
    ("_CARD_THING", "a usd card payment", True),  # "card payment", though not "usd card"
    ("_CARD_THING", "a usd card", False),
])
def test_a_phrase_set_checks_what_comes_before_its_literal(name: str, text: str, found: bool) -> None:
    assert (getattr(scorer_module, name).search(text) is not None) is found


@pytest.mark.parametrize(("name", "text", "found"), [
    ("_ROLEPLAY", "act as my interviewer for a junior backend role", True),
    # ("act as" inside a word)
    ("_ROLEPLAY", "we'll be happy to help, please contact as soon as you can", False),
    ("_ROLEPLAY", "more roleplaying practice before the exam", True),  # a single word (a stem): always
    # (the last word takes endings: searched always)
    ("_ROLEPLAY", "bir garson gibi davran\u0131r m\u0131s\u0131n?", True),
    ("_JUDGE", "summarise the lease and point out anything unfavourable to us", True),
    ("_JUDGE", "summarise the lease; the disappoint outcome was expected", False),
    ("_SIMPLE", "explain it like i'm five", True),
    ("_SIMPLE", "erkläre es einfach erklärt", True),
    ("_SIMPLE", "unlike i'm told, the patch is not merged", False),  # "like i'm" inside "unlike i'm"
])
def test_guarded_phrases_are_found_beside_their_guard_word(name: str, text: str, found: bool) -> None:
    """A phrase is looked for only when its guard word is among the text's words (a word inside another,
    "contact as", does not count), and single words and phrases whose last word takes endings always."""
    hits = scorer_module._VOCAB_KEYS.intersection(scorer_module._words(text))
    assert getattr(scorer_module, name).in_text(text, hits) is found


@pytest.mark.parametrize(("prompt", "task_type"), [
    ('Alguém comeu o bolo da vizinha. A Ana diz: "Não fui eu." O Bruno diz: "Foi a Carla." A Carla diz: '
     '"O Bruno está a mentir." Sabemos que só um deles está a mentir. Quem comeu o bolo?', "reasoning"),
    ('Se perdió la llave del coche. Pablo dice: "fue Marta". Marta dice: "Pablo miente". Luis dice: '
     '"yo no fui". Solo uno dice la verdad. ¿Quién fue?', "reasoning"),
    ("não vou mentir, adorei o jantar de ontem, obrigada pelo convite!", "casual_chat"),
])
def test_a_liars_puzzle_in_portuguese_or_spanish_is_reasoning(prompt: str, task_type: str) -> None:
    """"Está a mentir", "miente": who lies is a puzzle's clue (a lie owned up to in thanks is not)."""
    got = scored(prompt)
    assert got.task_type == task_type
    assert got.tier != "fast" or task_type == "casual_chat"


@pytest.mark.parametrize(("prompt", "task_type", "tier"), [
    # a date's format is no three figures to work with, nor two fractions
    ("write python that reads sales.csv (columns: day,amount) and prints the total per week. the days look "
     "like 14/02/2025", "code", "balanced"),
    ("sql: sum of amount per month from payments where paid_at is like 2024-09-03", "code", "fast"),
    # ... while a word problem with a date keeps its figures
    ("On 03/09/2024 I bought 3 kg of apples at 2.50 per kg and 2 kg of pears at 3 per kg. How much did I "
     "spend?", "math", "balanced"),
])
def test_a_date_is_not_a_quantity(prompt: str, task_type: str, tier: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == (task_type, tier)


@pytest.mark.parametrize(("prompt", "tier"), [
    # Afaan Oromo named ("in Afaan Oromo") or read by its function words: a language small models write
    # less well
    ("write a short announcement in Afaan Oromo for the farmers: the coffee pickup moves to Friday",
     "balanced"),
    ('translate to english please: "Bunni keenya guyyaa Jimaataa ni ergama, garuu konkolaataan hin jiru. '
     'Maallaqa yoom ergita? Hojjettoonni isaa eegaa jiru."', "balanced"),
    ("akkam jirta? nagaa?", "fast"),  # (a greeting is small talk)
])
def test_afaan_oromo_is_a_language_small_models_write_less_well(prompt: str, tier: str) -> None:
    assert scored(prompt).tier == tier


@pytest.mark.parametrize("prompt", [
    "أوجد كل الدوال f من R إلى R بحيث f(x+y) = f(x) + f(y) + 2xy لكل x و y حقيقيين، مع البرهان",
    "Να βρεθούν όλες οι συναρτήσεις f από το R στο R ώστε "  # noqa: RUF001 (Greek beside Latin letters)
    "f(x+y) = f(x) + f(y) + 2xy για κάθε x, y, με απόδειξη",  # noqa: RUF001
])
def test_a_functional_equation_asked_in_arabic_or_greek_is_a_competition_problem(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("math", "deep")


_LUGANDA_SET_UP = "Oli mukwano gwange ow'edda. Yogera nange mu Luganda kyokka, era ombuulire engero."


@pytest.mark.parametrize(("prompt", "context", "tier"), [
    # a conversation set to be held in Luganda ("mu Luganda": Luganda's "in"): every reply is a text in it
    ("Ki kati munnange! Leero enkuba etonnye. Mbuulira olugero olumu.", _LUGANDA_SET_UP, "balanced"),
    # ... unless the ask names another language for this reply
    ("ok now say it in english only, short", _LUGANDA_SET_UP, "fast"),
    # a Luganda text to translate, told by its function words
    ('translate to english: "Leero enkuba etonnye nnyo wano, naye nze ndi bulungi. Ssente ezo ziweereze kati '
     'kubanga ekyo kye twakkiriziganyako."', "", "balanced"),
])
def test_luganda_is_a_language_small_models_write_less_well(prompt: str, context: str, tier: str) -> None:
    assert scored(prompt, context=context, tokens=len(prompt + context) // 4).tier == tier


@pytest.mark.parametrize("prompt", [
    # "em 3 pontos", "en 3 puntos", "in 3 points": a summary this short is for a small model, however long
    # the text
    "resume-me isto em 3 pontos, a minha mãe recebeu e não percebe nada:\n\n" + "A assembleia de condóminos "
    "aprovou obras na cobertura, com um orçamento de 18.400,00 euros, a pagar em quatro prestações. " * 6,
    "resúmeme esto en 3 puntos, por favor:\n\n" + "La junta de vecinos aprobó las obras del tejado por "
    "18.400 euros, que se pagarán en cuatro cuotas a partir de marzo. " * 6,
])
def test_a_summary_asked_in_so_many_points_is_brief(prompt: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("document_summary", "fast")


@pytest.mark.parametrize("ask", ["make short study notes from this (bullet points):",
                                 "make short notes (5-6 points) from this for my exam:"])
def test_study_notes_made_from_a_pasted_page_are_a_summary(ask: str) -> None:
    """"Make short study notes from this": notes of the text (its figures and equations are the material)."""
    page = ("Photosynthesis turns light energy into chemical energy: 6CO2 + 6H2O -> C6H12O6 + 6O2. It takes "
            "place in the chloroplasts, at 25 to 35 degrees, and about 3 to 6% of the light is stored. ") * 4
    got = scored(ask + "\n\n" + page)
    assert got.task_type == "document_summary"


@pytest.mark.parametrize(("prompt", "proof"), [
    ("次の等式を証明してください 1 + 2 + … + n = n(n+1)/2", True),
    ("卒業証明書と成績証明書を来週までに提出してください。必要な書類をリストにして。", False),
    ("请帮我写一份在职证明书 公司是上海的一家软件公司。", False),
])
def test_a_certificate_in_chinese_or_japanese_is_no_proof(prompt: str, proof: bool) -> None:
    """証明 is a proof, 証明書 (证明书) a certificate: the longer needle is found first."""
    signals = dict(scored(prompt, detail=True).signals)
    assert bool(signals.get("prove")) is proof


@pytest.mark.parametrize("prompt", [
    "напиши коротке привітання для дідуся на 80 років від онуки Марії, тепло та трохи смішно, 4-5 речень",
    "треба коротка промова на проводи на пенсію нашої медсестри Ганни Петрівни, 30 років в лікарні",
    "напишіть подяку вчительці музики від батьків 3-Б класу в кінці року, щиро та коротко, без пафосу",
])
def test_a_text_to_write_in_ukrainian_is_writing(prompt: str) -> None:
    """A greeting, a speech, a thank-you to write in Ukrainian: writing, for a small model."""
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("creative_writing", "fast")


_GREEK_ASKS = (
    # a summary "σε 3 κουκκίδες" (in three bullets) is brief, however long the text
    ("Κάνε μου περίληψη σε 3 κουκκίδες:\n\n" + "Η συνέλευση των γονέων αποφάσισε να γίνει η εκδρομή "  # noqa: RUF001
     "στις 12 Μαΐου, με κόστος 25 ευρώ ανά μαθητή, και οι πληρωμές γίνονται μέχρι τις 30 Απριλίου. " * 5,  # noqa: RUF001
     "document_summary"),
    # a wish for a card, and a phrase to say in another language, are writing
    ("Γράψε μου μια ωραία ευχή για κάρτα για τη φίλη μου την Ελένη που γιορτάζει, "  # noqa: RUF001
     "όχι πολύ μεγάλη", "creative_writing"),
    ("Πες μου πώς λένε στα γερμανικά «καλή επιτυχία» και «να προσέχεις», "  # noqa: RUF001
     "με ελληνικά γράμματα για την προφορά", "creative_writing"),  # noqa: RUF001
)


@pytest.mark.parametrize(("prompt", "task_type"), _GREEK_ASKS)
def test_greek_briefs_wishes_and_phrases_are_for_a_small_model(prompt: str, task_type: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == (task_type, "fast")


@pytest.mark.parametrize(("prompt", "tier"), [
    # a what-if as the only point is everyday reasoning: a mid model's job
    ("If the Roman Empire had never fallen, how would Europe's languages look today?", "balanced"),
    ("If we moved from Leeds to Bristol next spring, what would change for the kids' schooling and our "
     "commute?", "balanced"),
    # a what-if with a syllogism to check step by step is a puzzle: deep
    ("If all bloops are razzies and all razzies are lazzies, are all bloops definitely lazzies? Explain step "
     "by step.", "deep"),
])
def test_a_what_if_alone_is_everyday_reasoning(prompt: str, tier: str) -> None:
    got = scored(prompt)
    assert (got.task_type, got.tier) == ("reasoning", tier), got.reason
