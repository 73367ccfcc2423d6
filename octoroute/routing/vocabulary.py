"""The scorer's word lists: which words feed which signal, in the languages it reads.

Data only. ``scorer.py`` builds its lookup tables from these once, at import:
one dict from a word to its signals (the prompt's words are intersected with
its keys in one pass), and one pattern over the substrings of scripts written
without spaces. A word list grows here; what a signal does stays in the scorer.
"""

from __future__ import annotations

# Plans a constraint problem produces (a schedule, a rota and its rules, in English, German, French,
# Spanish and Portuguese): constraint words, but alone with figures plans to write (_CSP_ARTEFACTS).
CSP_ARTEFACT_WORDS = ("schedule slot slots timetable rota seating dienstplan schichtplan règles horaire "
                       "horario reglas turnos escala regras plantões beosztás beosztást szabályok")
# Language names that say "in that language" by themselves (Turkish "özbekçe yaz": write it in Uzbek).
RARE_LANGUAGE_ADVERBS = ("özbekçe ozbekce kazakça kazakca kırgızca kirgizca kürtçe kurtce azerice gürcüce "  # noqa: RUF001 (Turkish dotless i)
                          "gurcuce ermenice arnavutça arnavutca")
WORDS: dict[str, str] = {
    "code": (
        "code coding python javascript typescript java rust golang kotlin swift php ruby perl scala "
        "haskell sql mysql postgres postgresql sqlite regex regexp bash shell powershell function "
        "functions method methods class compile compiler compiled debug debugging refactor stacktrace "
        "traceback bug bugs api apis json yaml endpoint script scripts program programming "
        "algorithm algorithms loop recursion recursive variable variables array arrays struct "
        "algorithme algorithmes algorithmus algorithmen algoritmo algoritmos algoritme algorytm алгоритм "
        "pointer pointers segfault exception null undefined npm pip cargo docker dockerfile "
        "kubernetes kubectl nginx git github html css react django flask fastapi numpy pandas "
        "linux unix cli terminal query queries database schema backend frontend library framework "
        "lambda async await cpp c# golang dataframe binary hashmap linked implement implementation "
        "cache caching lru thread-safe threadsafe regexes unit-test helm terraform ansible systemd "
        "makefile cmake webpack graphql grpc websocket oauth jwt ssh firewall vlan proxmox tls "
        "kafka rabbitmq redis memcached elasticsearch mongodb webhook webhooks hmac backoff middleware "
        "daemon prometheus alertmanager grafana "
        # embedded: boards, firmware and the words of its code
        "arduino esp32 esp8266 stm32 atmega firmware microcontroller debounce isr millis gpio uart i2c "
        "freertos "
        # de fr es it pt nl ru
        "funktion programm programmieren skript quellcode fonction programme coder bogue función "
        "código programa funzione codice programma função programação functie programma "
        "implementação implementacao implementación implementazione implementierung numba cython "
        "код функция функцию функции программа программу скрипт "
        # pl (typed with and without its diacritics)
        "kod kodu funkcja funkcję funkcje funkcji skrypt skryptu programu zapytanie zapytania "
        # id
        "kode kodenya fungsi "
        # fi
        "koodi koodia koodin funktio funktion skripti "
        # sv, no, da: the code, a function
        "koden funktionen funksjon funksjonen "
        # ro (not "cod": a fish in English), el
        "codul functia funcția functie funcție scriptul algoritm algoritmul algoritmului κώδικα κώδικας"),
    "code_action": (
        "write implement implementing fix fixing debug refactor optimize optimise review convert "
        "rewrite generate create build add migrate test tests unittest design "
        # the same asks in the languages a one-line how-to is read in
        "écris écrire implémente crée corrige schreibe schreib implementiere erstelle korrigiere "
        "escribe escríbeme escribir implementa crea corrige scrivi scrivere implementa correggi "
        "escreva escrever escreve implemente implementar corrija schrijf implementeer maak napisz popraw "
        # Rioplatense Spanish asks with "vos": write me, write it for me
        "escribime escribímelo "
        "zaimplementuj "
        # and in the others a one-line how-to is now read in: Russian, Ukrainian, Swedish, Finnish, Turkish,
        # Indonesian, Vietnamese, Korean
        "напиши напишите написать реализуй реализуйте исправь создай напишіть реалізуй виправ створи "
        "skriv skriva kirjoita toteuta korjaa yaz tulis tuliskan buatkan viết 작성 작성해 짜줘"),
    "depth": (
        "concurrency concurrent thread threads threading multithreaded thread-safe threadsafe race-condition "
        "deadlock deadlocks miri unsound unsoundness "
        "mutex mutexes semaphore parallel parallelism lock-free distributed consensus raft "
        "paxos byzantine replication sharding scalability scalable microservices architecture "
        "security vulnerability vulnerabilities exploit exploits injection xss csrf cve secure "
        "audit cryptographic cryptography encryption authentication authorization kernel "
        "performance latency throughput bottleneck memory-safe leak leaks fault-tolerant "
        "sicherheit architektur nebenläufigkeit sécurité concurrence arquitectura seguridad "
        "concorrenza sicurezza segurança concorrência beveiliging безопасность архитектура "
        "многопоточность goroutine goroutines concurrently simultaneously data-race race-condition "
        "sicherheitslücke sicherheitslücken sicherheitsproblem sicherheitsprobleme schwachstelle "
        "schwachstellen säkerhet säkerhetsgranskning sårbarhet sårbarheter säkerhetshål безпека безпеки "
        "вразливість вразливості уязвимость уязвимости "
        "vulnérabilité vulnérabilités faille failles vulnerabilidad vulnerabilidades vulnerabilità "
        "nebenläufig concurrente concorrente hilos subprocesos bezpieczeństwo bezpieczenstwo wątki watki "
        "współbieżność wspolbieznosc"),
    "math": (
        "calculate calculation compute solve equation equations integral integrals derivative "
        "derivatives differentiate integrate probability percent percentage sum product average "
        "remainder divisible gcd lcm digits "
        "median ratio fraction fractions algebra geometry triangle circle radius area volume "
        "inequality inequalities integer integers "
        "theorem lemma avg "
        "perimeter angle angles polynomial quadratic logarithm exponent factorial prime primes divisible "
        "modulo remainder matrix matrices eigenvalue eigenvalues vector vectors limit series "
        "arithmetic multiply divide subtract interest compound speed distance "
        "berechne berechnen gleichung calcule calculer équation résoudre calcula calcular "
        "ecuación resuelve calcola calcolare equazione calcule equação bereken vergelijking "
        "вычисли посчитай уравнение реши oblicz policz równanie rownanie równania rownania całka calka "
        "całkę calke pochodna pochodną średnia srednia "
        # id: calculate, average, statistically significant
        "hitung hitungin hitungkan rata-rata signifikan statistik statistically "
        # fi: calculate
        "laske laskisitko "
        # sv, no, da: calculate, an equation, a probability
        "räkna beräkna beregn beregne udregn ekvation ekvationen likning ligning sannolikhet sannolikheten "
        "sannsynlighet sandsynlighed "
        # hu: calculate, an equation, the (positive) integers
        "számold számítsd számoljuk egyenlet egyenletet egyenletrendszer egészek egészet "
        # ro, el: calculate, an equation, solve
        "calculeaza calculează calculul ecuatia ecuația υπολόγισε υπολογισε λύσε εξίσωση εξίσωσης "
        # cs: calculate, an equation
        "spočítej spocitej vypočítej vypocitej rovnice rovnici"),
    "math_adv": (
        "abelian isomorphic homomorphism angle angles integral integrals derivative derivatives "
        "eigenvalue eigenvalues theorem lemma "
        "combinatorics permutations combinations probability modulo modular polynomial remainder "
        "divisible gcd lcm "
        "logarithm matrix matrices limit series convergence inequality olympiad olympiads putnam "
        "olympiade olympiaden matheolympiade olimpiada olimpíada olimpíadas olimpiadi olympiáda olympiády "
        "olympiady "
        "całka calka całkę calke pochodna pochodną"),
    "howmany": (
        "combien cuántos cuántas cuánto quanti quante quanto quantos quantas hoeveel сколько"),
    "prove": (
        "prove proof proofs "
        "beweise beweisen beweis preuve prouver prouvez démontrer démontrez demuestra demostrar dimostra "
        "dimostrare demonstre provando demonstrando demostrando dimostrando bewijs bewijzen докажи докажите "
        "доказать udowodnij wykaż wykaz доказательство доказательства доведи доведіть довести доведення "
        # id ("bukti" alone is a receipt: "bukti transfer")
        "buktikan buktiin pembuktian "
        # fi
        "todista todistus todistaa "
        # sv, no, da
        "bevisa bevise "
        # hu
        "bizonyítsd bizonyítsa bizonyítsuk bizonyítás bizonyítást bizonyítását bizonyitsd "
        # ro, el
        "demonstreaza demonstrează απόδειξε αποδείξτε "
        # cs, with and without its diacritics
        "dokaž dokaz dokažte dokazte důkaz dukaz důkazu dukazu "
        # tr, with and without its dotless i ("ispat" alone is also evidence in court)
        "ispatla ispatlayın ispatlayin ispatlayınız ispatlayiniz ispatı ispati kanıtla kanıtlayın "  # noqa: RUF001
        "kanitla kanitlayin"),
    "puzzle": (
        "puzzle puzzles riddle riddles logic logical deduce deduction infer syllogism paradox "
        "knights knaves liar liars truth-teller truthteller sequence chess sudoku "
        "rätsel lügt lügner wahrheit énigme menteur menteurs vérité acertijo mentiroso mentirosos verdad "
        "indovinello bugiardo verità zagadka zagadkę zagadke łamigłówka lamiglowka kłamca klamca kłamcy "
        "ljuger lögnare sanning sanningen gåta "
        # Turkish: a puzzle and its clues
        "bulmaca bulmacası bulmacasi ipucu ipuçları ipuclari yalancı yalanci "  # noqa: RUF001 (Turkish dotless i)
        # Hungarian: a puzzle, a brain-teaser
        "rejtvény rejtvényt fejtörő fejtörőt "
        # Czech: a riddle, chess
        "hádanka hadanka hádanku hadanku šachy sachy "
        # Portuguese and Spanish: to lie, lying, (he) lies (not "verdade": "manteiga de verdade", real butter)
        "mentir mentindo miente mienten mintiendo"),
    "hypothetical": "imagine suppose assume",
    # Chance: a probability asked in any words ("what are the odds", "how likely"). Small models
    # answer these by pattern (1/2, 1/6) and miss conditioning, complements and base rates.
    "chance": (
        "probability probabilities wahrscheinlichkeit probabilité probabilités probabilidad probabilidades "
        "probabilità probabilidade вероятность peluang"),
    # Words that ask for a probability only beside a random device ("the odds of two sixes"):
    # alone they are everyday talk ("any chance you could ...", "as expected").
    "chance_weak": "odds chance chances likelihood likely expected expectation average",
    # Random devices: with a chance word they make a probability problem, not small talk.
    "device": (
        "dice coin coins card cards deck roll rolls rolled flip flips toss tosses draw draws drawn "
        "lottery lotto urn marble marbles balls heads tails boy boys girl girls "
        "würfel würfeln münze karten dé dés pièce cartes dado dados moneda cartas baraja dadi moneta carte"),
    # Technical subjects: with an ask to explain how they work, a small model blurs the mechanism.
    "tech": (
        "protocol protocols tcp udp tls ssl https handshake dns kernel syscall fork scheduler "
        "memory virtual page pages tlb cpu cache caches compiler jit interpreter bytecode garbage "
        "collector allocator database databases index indexes indices b-tree lsm isolation "
        "consensus replication raft paxos encryption cryptography cipher hash hashing signature "
        "certificate key-exchange diffie-hellman transformer transformers attention gradient gradients "
        "backpropagation "
        "layernorm batchnorm softmax dropout overfitting regularization regularisation "
        "neural embedding embeddings floating-point ieee network packet packets routing bgp "
        "congestion filesystem journaling inode mutex semaphore deadlock csrf xss oauth jwt "
        "protokoll speicher datenbank verschlüsselung netzwerk protocole mémoire données chiffrement "
        "réseau protocolo memoria datos índice índices cifrado consultas red protocollo crittografia "
        "pipeline pipelines instruction instructions register registers cookie cookies wifi wi-fi vpn "
        # retrieval and inference: how search ranks and how a model is served
        "retrieval bm25 reranker reranking speculative decoding quantization quantisation kv-cache"),
    # Asks to explain a mechanism ("explain how", "walk me through", "under the hood") ...
    "explain": (
        "explain explained explaining mechanism mechanisms internally internals hood walk "
        "erkläre erklär erklären explique expliquer expliquez explícame explica explicar spiega "
        "explicame explicámelo "
        "spiegami explique-moi اشرح اشرحلي jelasin jelaskan समझाओ समझाइए samjhao samjhaao selitä selittää "
        "magyarázd elmagyaráznád magyarázza explică explica-mi explică-mi εξήγησε εξηγησε εξήγησέ "
        "eksigise eksighse vysvětli vysvetli vysvětlete vysvetlete terangkan huraikan"),
    # ... or ask how or why it works, or how two things differ.
    "how": "how why works work difference differences funktioniert funktionieren unterschied "
           "fonctionne fonctionnent différence funciona funcionan diferencia funziona differenza diferença "
           "verschil الفرق különbség különbséget",
    # Asks for the detail that a small model skips.
    "detail": "detail detailed details precisely exactly step hood internals internally genau detailliert "
              "détail détails "
              "précisément detalle detallada detallado dettaglio",
    # An assignment puzzle: each of several people has a different thing.
    "assign": "each different distinct jeder jede verschiedene anderes anderen chacun chacune différent "
              "différents "
              "cada distinto distinta diferente diferentes ognuno każdy kazdy każda kazda inny inna różny "
              "rozny",
    # Number words: riddles and word problems often spell their numbers out.
    "numword": "one two three four five six seven eight nine ten eleven twelve twice thrice half dozen",
    # Orderings and relations between people or things: logic-puzzle material.
    "relation": "taller shorter older younger heavier lighter faster slower richer poorer "
                "tallest shortest oldest youngest heaviest lightest fastest slowest "
                "sister sisters brother brothers",
    # What makes a coding ask algorithmic rather than routine.
    "algo": "algorithm algorithms recursion recursive dynamic memoization subsequence substring "
            "permutation permutations combinatorial tree trees bst heap graph graphs traversal "
            "ast grammar lexer tokenizer interpreter precedence "
            "dijkstra shortest complexity efficient optimal optimise optimize backtracking greedy "
            "algorithme algorithmes algorithmus algorithmen algoritmo algoritmos algoritme algorytm "
            "алгоритм minimise minimize minimiser minimieren minimizar minimizzare maximise maximize "
            "maximiser maximieren maximizar massimizzare "
            # named dynamic programmes, and a quadratic bound in the Romance languages
            "hirschberg gotoh needleman-wunsch smith-waterman levenshtein quadrático quadrática "
            "cuadrático cuadrática quadratique quadratico "
            # ro: an algorithm, its complexity
            "algoritm algoritmul algoritmului complexitatea complexitate αλγόριθμο αλγόριθμος",
    # Guards: a phrase list below is searched only when one of its words is in the prompt.
    "g_reason": "step step-by-step show explain which what true think if at no exactly who how only "
                "argument likely reason",
    # Systems depth that needs a technical context to mean anything (a "transaction" at the bank
    # is not one in a database): data integrity, distributed correctness, attack surfaces.
    "systems": (
        "consistency transaction transactions idempotent idempotency exactly-once effectively-once "
        "at-least-once at-most-once failover outage split-brain quorum corrupt corrupts corrupted "
        "corruption destroy destroys overflow dangling use-after-free md5 sha1 hmac bcrypt "
        "threat threat-model attacker attack attacks exposed hardening atomic atomics segfault segfaults "
        # Time-zone arithmetic: offsets that change under the code (DST) are a classic subtle bug.
        "timezone timezones tzinfo zoneinfo pytz dst daylight-saving"),
    # Code that runs tasks at once, where a bug that shows only sometimes is a race.
    "concurrent": (
        "race races async asyncio await awaits awaited thread threads threading goroutine goroutines "
        "lock locks locking locked unlock mutex mutexes concurrent concurrency concurrently parallel "
        "atomic atomics cancel cancelled canceled cancellation worker workers deadlock semaphore "
        "channel channels chan promise promises callback callbacks settimeout interleaving "
        "interleaved multithreaded executor threadpoolexecutor"),
    # Bugs that show only sometimes: the ones small models explain away.
    "flaky": "sometimes occasionally intermittent intermittently randomly sporadic sporadically flaky "
             "hangs forever nondeterministic non-deterministic",
    # Speed work on attached code (profiling, vectorising, query plans).
    # (Not "profile" or "speed": a profile page, a player's speed.)
    "perf": "slow slower faster speedup speed-up profiler profiling optimize optimise vectorize vectorise",
    # Design asks: a system to lay out, not a snippet to write.
    "design": "design designing architect pitfalls diseña diseñar diseñe entwirf entwerfen entwerfe "
              "concevoir conçois concevez progetta progettare projete projetar ontwerp ontwerpen "
              "спроектируй",
    # Weighing a decision: several factors, a recommendation.
    "decide": "decide deciding decision decisions criteria recommend recommendation consider weigh",
    # Constraint satisfaction: schedules and plans that must satisfy stated rules.
    "csp": "constraint constraints satisfy satisfies satisfying dependencies dependency weighings "
           # constraints, in the languages of the rules already listed among the plans below
           "restricciones restrições contraintes einschränkungen nebenbedingungen vincoli "
           "constrangeri constrângeri constrangere constrângere constrangerile "  # ro
           + CSP_ARTEFACT_WORDS,
    # A restriction on how code may be written ("without", "no libraries").
    "restrict": "without",
    # Guards of the phrases below, chosen among the phrase's words for being rare in code
    # ("load" and "using" are identifiers and keywords: a code prompt would pay the scans).
    "g_phrase": "under production inputs few no use just only must",
    # Translation asks that need more than a small model's fluency.
    "careful": "precision precise legal register polite natural idiomatic rhyme rhymes rhyming metre meter "
               # a text's humour, puns, syllables, rhythm and rhymes to keep (en, fr, es/it/pt, de)
               "humour humor humorous wordplay pun puns syllables syllabes rythme rimes rime rima rimas "
               "ritmo reim reime reimen "
               "rhythm nuance nuances terminology technical literally word-for-word word-by-word gloss "
               "juridique juridiques "
               "formalité juridico "
               "jurídico jurídica juristisch juristische précis précise preciso precisa exakt "
               "properly exactly accurately accurate official verse 용어 원문 전문용어 정확하게 literal "
               # a poem to carry over as a poem ("I want it to sound like poetry, not like google")
               "poem poems poetry poème poèmes poésie poema poemas poesía poesia gedicht gedichte lyrics "
               "stanza stanzas sonnet стихи стихотворение "
               # "translate it professionally", "profesjonalnie", "professionnel"
               "professional professionally profesjonalnie profesjonalny profesjonalna professionnel "
               "professionnelle professionell professionale profesional profissional "
               # cs: precise(ly), legally, formally, professionally
               "přesně presne přesné přesný právně pravne formálně formalne profesionálně profesionalne "
               # "carefully", "con cuidado", "sorgfältig", "soigneusement"
               "carefully cuidado cuidadosamente sorgfältig sorgfaeltig soigneusement attentamente "
               "correctly correcto correcta correctamente correctement correttamente korrekt "
               "zorgvuldig рифма рифму рифмой рифмы рима риму римою "
               # terminology and technical register, in the languages of the big European translations
               "terminologia terminologie terminología terminologii fachbegriffe fachsprache technisch "
               "technische technischen técnico técnica tecnico tecnica technique techniques",
    # Function words of Irish and Scottish Gaelic that no language the sets use shares ("an", "na", "do"
    # and "le" are English, Portuguese or French as well; "nach" is German, "sin" Spanish, "orm" an ORM).
    "rare_words": "agus tha bha aig anns chaidh bidh tá bhí níl leis bho ris "
                  # ... of Lingala (Kinshasa, Brazzaville), which no language the sets use shares either
                  # (not its greetings: "mbote! ozali malamu?" is small talk) ...
                  "ngai nazali ozali azali mpo mpe oyo nzambe lokola yebisa kobanga "
                  # ... and of Wolof (Dakar); not "sama" (Indonesian), "nga" (Tagalog) nor "wax"
                  "dama dañu dinga ngir yàlla jàmm nanga bëgg bëggoon "
                  # ... and of Afaan Oromo (Addis Ababa, Jimma); not its greeting "akkam jirta?"
                  "dha garuu keenya isaa jiru waliin yoom keessatti kanaaf isaan keessa "
                  # ... and of Luganda (Kampala); not "webale" (thanks) nor "kati" (Malay, Indonesian)
                  "nnyo nti bwe naye nze bulungi ekyo kino kubanga ssente okuva leero wano ggwe ffe",
    # Languages small models translate into noticeably worse than the big European ones.
    "rare_lang": "afaan oromoo oromiffa oromifa swahili kiswahili amharic yoruba zulu xhosa hausa igbo "
                 "somali nepali sinhala khmer lao "
                 "burmese tigrinya kinyarwanda malagasy pashto kurdish uzbek tajik kyrgyz mongolian "
                 "tibetan uyghur sindhi haitian creole samoan tongan maori quechua nahuatl náhuatl guarani "
                 "guaraní aymara latin sanskrit welsh "
                 "cymraeg irish gaelic gaeilge basque euskara icelandic faroese maltese albanian georgian "
                 "armenian azerbaijani kazakh tagalog filipino cebuano javanese sundanese bengali urdu "
                 "punjabi gujarati marathi tamil telugu kannada malayalam odia assamese yiddish hawaiian "
                 "navajo inuktitut greenlandic sami frisian breton occitan corsican sardinian wolof shona "
                 "sesotho setswana lingala twi ewe akan fante dagbani oromo luxembourgish "
                 "papiamento papiamentu papiaments "
                 "kikuyu gikuyu luo luganda isizulu isixhosa latim latín lateinisch latijn łacinę łacina "
                 "cantonese jyutping hokkien teochew hakka māori reo nynorsk идиш идише идиша יידיש "
                 "kapampangan ilocano ilokano hiligaynon waray bikolano "
                 + RARE_LANGUAGE_ADVERBS,
    "g_role": "pretend act play roleplay role-play role style character be i'll practise practice interview "
              "interviewing practising practicing rôle ruolo parte papel rolle rol conta finge finja cuenta "
              "adventure oynayalım oynayalim davran dungeon pura2 pura-pura berperan peran "  # noqa: RUF001
              "תשחק תשחקי",
    # A persona as the ask's first words: "be my rubber duck", "you're the interviewer", "tu es serveur".
    "g_persona": "be you're you are play tu es du bist sei eres rôle rol ruolo rollenspiel spiel rolle joue "
                 "haz hacé interpreta fai actúa actua finge fais agis atue finja kannst",
    "g_format": "json yaml csv xml table tables key-value list",
    "unit": "km kg mph kmh cm mm ml mg usd eur dollar dollars euro euros mile miles hour hours minute "
            "minutes second seconds day days week weeks year years meter meters metre metres liter "
            "liters litre litres gram grams pound pounds feet inches apples people students cookies",
    "g_same": "same", "g_every": "every all each list table json csv", "g_reply": "reply respond answer",
    "g_version": "version", "g_sound": "sound sounds", "g_seat": "seat seats seating sit sits",
    "g_river": "river", "g_order": "order",
    "g_say": "sagt say dit dice englisch deutsch japanisch französisch spanisch italienisch chinesisch "
             "polnisch powiedzieć powiedziec mówi mowi अंग्रेज़ी अंग्रेजी हिंदी हिन्दी likh bata batao bol kaho "
             "angrezi λέμε λένε λέγεται",
    "g_are": "are", "g_quant": "all some", "g_if": "if", "g_tl": "tl",
    "g_write": "write draft compose schreib schreibe schreiben verfasse rédige écris escribe redacta scrivi "
               "escreva schrijf schrijven scrivimi scrivici escríbeme escribeme redáctame écris-moi "
               "rédige-moi escreve escreva-me napisz skryf hazme haceme écrire rédiger escribir redactar "
               "scrivere escrever tulis tuliskan tulisin bikin bikinin buatin buatkan "
               "लिखो लिखिए लिखें likho likhdo kirjoita kirjota kirjoittaa kirjottaa kirjoitatko skriva skriv "
               "لکھ لکھو لکھیں لکھئے "
               "напиши напишите написать напишіть написати תכתוב תכתבי לכתוב írj írjál írd írnál megírnád "
               "scrie scrie-mi scrie-l scrieti scrieți γράψε γράψτε γραψε grapse napiš napis napište napiste "
               "লিখে লিখো লেখো লিখুন",
    "g_points": "points", "g_digest": "decided open action", "g_did": "did hua kiya huwa",
    "g_takeaway": "takeaway",
    # The name words of _NAMING (a pattern that costs 20 us a 1,000 characters, searched only with one).
    "g_name": "name names nom noms nombre nombres namensideen nome nomi naam namen",
    # The words of a plan of the asker's weeks (_study_plan): without one, "plan" is looked at no further.
    "g_plan": "study revision learning learn prep prepare training interview interviews exam exams finals "
              "mocks revise make weekly daily week day",
    # A model's results table, looked for only beside one of these in the ask's head or tail (a
    # coefficient, a p-value, R², an interval, "interpret this regression")
    "g_stats": "coef coefficient coefficients p p-value p-values r-squared std estimate ci odds pr "
               "regression interpret interpreting significant significance",
    # The first words of the judgement phrases (_JUDGE): a phrase is looked for only beside its word.
    "g_judge": "flag point red watch anything should is could what's whats before means mean actually does "
               "am are where my changes need affect affects változik rosszabb risky",
    "g_plain": "plain simple eli5 layman layman's like simplement comme pour einfach einfache als für "
               "sencillo sencilla sencillas sencillos como para semplici semplice come per simples",
    # The answer is for a child, a parent or a beginner (guards _LAY_AUDIENCE).
    "g_lay": "old olds kid kids son son's daughter daughter's grandson granddaughter nephew niece mum mom "
             "dad grandma grandpa grandmother grandfather child children beginner beginners never "
             "non-technical tochter sohn kind kindern enkel enkelin oma opa fille fils enfant enfants "
             "hija hijo hijos abuela abuelo nieta nieto",
    "g_valid": "valid invalid sound",
    "g_make": "make",
    # The asker in their own problem ("my budget", "our invoices"), not a problem as set in a textbook.
    "g_self": "my our mon ma mes notre nos mein meine meinen meinem meiner meines unser unsere unseren "
              "unserem unserer mi mis nuestro "
              "nuestra nuestros mio mia miei nostro nostra meu minha nosso nossa mijn onze i we i'm we're "
              "i've we've ich wir je nous yo nosotros io noi eu nós ik",
    "g_unknowns": "dimensions dimensiones dimensioni dimensões abmessungen seitenlängen they them both "
                  "numbers",
    "g_proof": "induction inductive demonstrate derive contradiction prova prueba preuve beweis "
               "dimostrazione fewer kevesebből",
    "g_int": "integer integers",
    # Words of a contest problem's statement, which guard the scan for its input bounds.
    "g_bound": "queries query integers integer array arrays constraints input tle testcases",
    # Guards of the counting problems of competitions (_competition_count).
    "g_count": "integer integers ordered ways способами способов façons maneras způsoby zpusoby "
               "entiers d'entiers enteros inteiros interi egész ganzer ganzen ganzzahlige целых całkowitych "
               "entières enteras inteiras intere",
    # ... and of a functional equation (_FUNCTIONAL_EQUATION)
    "g_funcs": "functions fonctions funciones funktionen функции الدوال συναρτήσεις",
    "g_bio": "bio", "g_notes": "bullet bullets notes flashcards cheatsheet", "g_pull": "pull",
    "g_working": "working workings",
    "g_balance": "balance",
    "g_kin": "son sons daughter daughters father mother wife husband uncle aunt nephew niece cousin "
             "grandfather grandmother grandson granddaughter sister brother",
    "g_mark": "print printf println console self",
    "g_shape": "def class import function fn func select return let const",
    "g_problem": "how what if when per wie",
    "constraint": (
        "must cannot can't exactly only never always unless except without each every both "
        "neither either minimum maximum immer niemals toujours jamais siempre nunca sempre "
        "exatamente exactamente exactement genau "
        # ro: each, nobody, never, exactly, at least, at most
        "fiecare nimeni niciodata niciodată macar măcar "
        # hu: exactly, at least, at most, never, always, except, everyone, no one
        "pontosan legalább legfeljebb soha mindig kivéve mindenki mindenkinek senki senkinek"),
    "extraction": (
        "extract extraction parse parsing entities entity fields field csv tabulate structured "
        "schema extrahiere extrahieren extraire extrais extrae extraer estrai estrarre "
        "extraia extrair extraheer sacame sácame извлеки استخرج استخرجلي"),
    "format": "json yaml csv xml table columns rows",
    "creative": (
        "poem poems poetry story stories haiku limerick lyrics song verse essay novel fiction "
        "screenplay sonnet tale fable slogan tagline blog tweet caption captions joke jokes speech toast "
        "blurb linkedin condolence condolences flyer "
        # a speech, a note, an invitation, a greeting card, a sign or notice to write, in more languages
        "речь записка lapp sedel zaproszenie przemówienie kondolence cartello volantino einladung "
        "glückwunsch glückwünsche aushang uitnodiging toespraak inbjudan invitasjon kutsu kutse kõne "
        "pozivnica čestitka "
        "roleplay role-play pretend character dialogue scene fantasy imagine creative letter "
        "email invitation birthday wedding reminder card kaartje "
        "mahnung zahlungserinnerung rappel relance recordatorio sollecito "
        "gedicht geschichte erzähle lied märchen poème histoire "
        "conte chanson poema cuento historia canción poesia storia racconto canzone história "
        "conto verhaal liedje стихотворение стих стихи рассказ историю сказку песню "
        # school essays: "einen Aufsatz", "une rédaction", "un ensayo"
        "aufsatz erörterung rédaction dissertation ensayo redacción saggio ensaio redação opstel "
        "wypracowanie сочинение эссе "
        # Polish: wishes for a card, a poem, a story, an e-mail to write
        "życzenia zyczenia wierszyk wiersz opowiadanie bajkę bajka kartkę kartka "
        # a post, a notice, a message or a letter to write ("mi scrivi un breve annuncio")
        "annuncio messaggio lettera anuncio mensaje carta annonce lettre anzeige nachricht anúncio "
        # a reply to write ("auf diese Mail antworten", "répondre à ce mail")
        "antworten répondre responder rispondere antwoorden "
        # es, pt: a speech, a toast, congratulations, an invitation, a dedication, a little message
        "discurso brindis brinde felicitación invitación convite dedicatoria mensajito mensajitos "
        # fr: a speech, wishes for a card, an announcement of a birth or a wedding
        "discours vœux voeux faire-part "
        "mensagem bericht aankondiging ogłoszenie wiadomość inlägg meddelande brev объявление "
        "сообщение письмо тост поздравление открытку ilan mesaj mektup "
        # Ukrainian: an essay, a greeting, a thank-you, a speech, a complaint, a poem, a story, a card, a
        # notice
        "твір привітання подяку подяка промову промова скаргу вірш вірша оповідання казку листівку "
        "оголошення "
        # Hebrew: a poem or song, a story, a letter, a greeting, a speech (not "הודעה": a message, but also
        # a contract's notice)
        "שיר סיפור מכתב ברכה נאום "
        # Greek: a wish, a card, a little speech, an announcement, an invitation
        "ευχή κάρτα λογύδριο ανακοίνωση πρόσκληση "
        # Turkish: a poem, a story, a tale, a song (often typed without the Turkish letters)
        "şiir siir şiiri siiri hikaye hikâye hikayesi masal masalı masali şarkı sarki "  # noqa: RUF001 (Turkish dotless i)
        # a role to play: "fai finta di", "udawaj, że", "fais semblant", "doe alsof", "притворись"
        "finta fingi finge finja fingir semblant alsof udawaj låtsas притворись "
        # Indonesian: a poem, a rhyme, a story, a tale, a song, a message, a letter, wishes, a description
        "puisi pantun cerita cerpen dongeng lagu pesan surat ucapan deskripsi "
        # Hindi, in its script and in Latin letters: a letter, a poem, a story, a speech, a couplet
        "चिट्ठी पत्र कविता कहानी भाषण शायरी chitthi chithi kavita kahani bhashan shayari "
        # Urdu: a notice, a story (not "خط", a letter, nor "نظم", a poem: in Arabic a line and systems;
        # nor "پیغام", a message, also Persian)
        "نوٹس کہانی "
        # Finnish and Swedish: a poem, a story, a tale, a speech, a card, wishes (not "satu", a tale: it
        # is "one" in Indonesian)
        "runo runon runoa tarina tarinan sadun puhe puheen kortti onnittelut tackkort dikt berättelse "
        # Hungarian: a joke, a poem, a tale, a letter, a message, a toast (not "vers" nor "mese": French
        # "towards", Italian "month")
        "vicc viccet verset versike mesét levél levelet üzenet üzenetet köszöntő pohárköszöntő választ "
        # Romanian and Greek: a poem, a story, a letter, wishes, a message
        "poezie poveste scrisoare urare ποίημα ιστορία μήνυμα γράμμα ευχές "
        # Czech: a poem, a story, a letter, a message, wishes, condolences
        "básničku basnicku báseň basen příběh pribeh dopis zprávu zpravu přání prani kondolenci "
        # Bengali: a composition, a poem, a story, a letter
        "রচনা কবিতা গল্প চিঠি"),
    "rewrite": (
        "rewrite rephrase paraphrase proofread reword translate translation grammar spelling "
        "isalin pakisalin pa-translate patranslate "
        "übersetz formulier formuliere umformulieren förmlicher höflicher "
        "polish shorten simplify formal informal tone edit friendlier politer "
        "übersetze übersetzen umschreiben traduis traduire reformule traduce traducir traduci "
        "tradurre traduza traduzir traduz traduce-me tradúceme traduceme tradúcelo traducelo tradúcela "
        "tradúzcalo traducime traducímelo traducilo vertaal vertalen "
        "переведи перевести перефразируй переклади перекласти "
        "przetłumacz "
        "översätt oversett oversæt çevir μετάφρασε tradueix popraw przeredaguj "
        "번역 번역해 번역해줘 번역해주세요 "
        "terjemahin terjemahkan terjemahan अनुवाद anuvad anuvaad käännä käännös תתרגם תתרגמי לתרגם תרגום "
        "ترجمہ fordítsd fordítsa lefordítanád fordítás fordítást tradu traducere traducerea metafrase "
        "přelož preloz přeložit prelozit překlad preklad"),
    "summary": (
        # "3 bullets max": the bullets of a summary (not "bullet", which a speech or CV may be written in)
        "summarize summarise summary tldr bullets stichpunkte stichpunkten viñetas condense recap gist "
        "outline kurzfassung zusammenfassung zusammenfassen fasse résume résumer resumen resumir riassumi "
        "riassunto resuma resumo samenvatting перескажи резюмируй takeaways لخص لخصلي ملخص "
        "resúmeme resúmelo resúmela resumime resumímelo resumilo resumeix "
        "streść podsumuj streszczenie podsumowanie sammanfatta "
        "oppsummer oppsummering opsummer "
        "sammanfattning özetle özetler özet opsomming opsom "
        "요약 요약해 요약해줘 요약해주세요 περίληψη συνόψισε rangkum rangkumin rangkumkan ringkas ringkasin "
        "ringkasan सारांश saransh tiivistelmä yhteenveto خلاصہ összefoglaló összefoglalás összefoglalót "
        "összefoglalnád foglald rezuma rezumă rezumat rezumatul shrň shrn shrnutí shrnuti "
        # pt "resume-me isto" (not "resume" alone: an English CV), es "me lo resumes", vi "tóm tắt" (not
        # "tắt": also "turn off")
        "resume-me resume-mo resumes-me tóm"),
    "chat": (
        "hi hello hey hiya yo sup thanks thank thx ty morning evening night bye goodbye cheers "
        "lol haha ok okay cool nice great awesome wow please weather joke "
        "hallo danke tschüss servus bonjour salut merci coucou hola gracias adiós ciao grazie "
        "multumesc mulțumesc mersi ευχαριστώ ευχαριστω καλημέρα καλημερα καλησπέρα καλησπερα "
        "γεια kalhspera kalimera kalispera efxaristo eyxaristw euxaristw ahoj díky diky děkuju dekuju "
        "buongiorno olá obrigado obrigada oi hoi dank bedankt привет спасибо здравствуйте пока"),
    # Everyday life, in the asker's own words: how they feel, their home, family, food and pastimes.
    # Public judgements find small models as good as large ones at such talk and advice.
    "feeling": (
        "tired exhausted knackered angry furious sad lonely stressed anxious nervous upset overwhelmed "
        "frustrated spiralling spiraling vent venting cheer bored homesick heartbroken grumpy miserable "
        "unmotivated demotivated feeling feelings nervös nerveux nerveuse nervioso nerviosa nervoso nervosa "
        "müde traurig gestresst einsam wütend aufmuntern fatigué fatiguée triste stressé stressée énervé "
        "déprimé déprimée cansado cansada estresado estresada agobiado agobiada stanco stanca stressato "
        "stressata estressado estressada moe verdrietig gestrest"),
    "life": (
        "cook cooking dinner lunch breakfast recipe recipes meal meals bake baking cake birthday gift "
        "gifts wedding holiday holidays vacation friend friends boyfriend girlfriend husband wife "
        "kids children baby toddler teenager teen dog dogs puppy kitten garden gardening podcast "
        "podcasts novel novels movie movies film films guitar piano hobby chores dishes laundry "
        "joke jokes coffee "
        "rezept kochen essen geburtstag kindergeburtstag hochzeit urlaub freund freundin mann kinder hund "
        "katze garten witz recette cuisine dîner anniversaire mariage vacances ami amie copain copine mari "
        "enfants chien chat jardin blague receta cocinar cena cumpleaños boda vacaciones amigo amiga "
        "novio novia marido niños hijos perro gato jardín chiste ricetta cucinare compleanno matrimonio "
        "vacanze amico amica fidanzato fidanzata bambini figli cane gatto giardino barzelletta receita "
        "jantar aniversário casamento férias filhos cachorro piada verjaardag vakantie vriend vriendin "
        "kinderen hond tuin grap "
        # meals, outings and family, the stuff of a week's plan or a weekend's
        "lunches dinners breakfasts menu menus weekend weekends anniversary picnic walks hike hiking seafood "
        "restaurant restaurants groceries leftovers leftover soup soups grandson granddaughter grandma "
        "grandpa grandmother grandfather mum mom dad parents repas semaine courses balade week-end "
        "wochenende ausflug abendessen mittagessen oma opa eltern comida comidas menú abuela abuelo padres "
        "pranzo nonna nonno genitori almoço avó avô etentje ouders "
        # hu: a menu, a recipe, dinner, lunch, a birthday, a present
        "menü menüt recept receptet vacsora vacsorát ebéd ebédet születésnap szülinap ajándék főzés főzni"),
    # Where a wrong answer costs health, money or rights: a mid model, not the smallest.
    "stakes": (
        "doctor gp pain symptom symptoms medication medicine dose pill pills pregnant pregnancy allergic "
        "allergy rash fever diagnosis injury bleeding chest suicide suicidal self-harm overdose "
        "blood drug drugs ibuprofen paracetamol acetaminophen aspirin warfarin antibiotics prescription "
        "mg mcg landlord tenancy tenant lawyer solicitor court sue contract legal tax taxes mortgage pension "
        "invest investing loan debt visa immigration vet vets toxic poison poisonous poisoning swallowed ate "
        "eaten emergency urgent "
        # money owed or earned: an invoice past due, a salary or pay rise to ask for (en, pt/es, de, fr)
        "overdue unpaid past-due salary salário salario aumento gehalt gehaltserhöhung salaire "
        "arzt ärztin schmerzen medikament médecin douleur médicament médico dolor medicamento medico "
        "dolore farmaco dor remédio "
        # fr: a loan, the bank, a monthly repayment, tax, rent, a contract, a lawyer, insurance
        "prêt banque bancaire mensualité mensualités impôts impôt loyer contrat avocat "
        # id: a contract, the law, a lawyer, tax, a loan, debt, a doctor, medicine, a fever
        "perjanjian kontrak hukum pengacara pajak pinjaman utang dokter obat demam "
        # hu: a doctor, medicine, tax, a contract, a lawyer
        "orvos orvoshoz gyógyszer gyógyszert adó adót szerződés szerződést ügyvéd "
        # ro: a doctor, a lawyer, tax, rent; el: a doctor, medicine, compensation, damage, the tax office,
        # tax, a contract, a lawyer
        "medic avocat impozit impozitul chirie γιατρό γιατρός γιατρο φάρμακο φαρμακο φάρμακα αποζημίωση "
        "αποζημίωσης ζημιάς εφορία φόρο φόρος συμβόλαιο δικηγόρο δικηγόρος "
        # cs: a doctor, medicine, tax, a contract, a lawyer
        "lékař lekar léky leky daně smlouva smlouvu smlouvy právník pravnik "
        # sv, no, da: a doctor, medicine, tax, a contract, a lawyer, rent
        "läkare läkaren fastlegen legevakten lægen medicin medisin skatten skatteverket avtal avtalet "
        "kontrakt kontrakten advokat hyran husleie husleje"),
    # A saying to explain: in a language small models read less well ("this Twi proverb", "ye Sindhi
    # kahawat"), its meaning and use are where they invent.
    "saying": "proverb proverbs kahawat kahawatein kahavat methali mithali idiom idioms muhavara muhavra "
              "peribahasa sprichwort refrán proverbe کہاوت محاورہ",
    "analysis": (
        "analyze analyse analysis compare comparison contrast evaluate assess critique tradeoff "
        "tradeoffs trade-off trade-offs implications strategy strategic pros cons "
        "vergleiche analysiere comparer analyser compara analiza confronta analizza vergelijk "
        "сравни проанализируй"),
}

# Substrings for scripts written without spaces (zh, ja).
CJK: dict[str, tuple[str, ...]] = {
    "code": ("代码", "函数", "程序", "编程", "脚本", "コード", "関数", "プログラム", "実装", "バグ"),
    "depth": ("并发", "安全", "架构", "分布式", "線程", "並行", "セキュリティ", "アーキテクチャ", "分散"),
    "math": ("计算", "多少", "方程", "求解", "几个", "几小时", "几天", "多久", "平均", "計算", "いくつ",
             "方程式",
             "何個", "何人", "いくら", "何円", "何分", "何時間"),
    "prove": ("证明", "証明"),
    # ... but a certificate is a document, not a proof (the longer needle is found first): "在职证明书",
    # "証明書を提出", "証明写真" (an ID photo).
    "certificate": ("证明书", "証明書", "証明写真"),
    "puzzle": ("推理", "谜", "パズル", "说谎", "真话", "假话", "嘘つき", "正直者"),
    "chance": ("概率", "几率", "可能性", "確率"),
    "device": ("骰子", "硬币", "扑克", "サイコロ", "コイン", "トランプ", "球"),
    "tech": ("内存", "虚拟内存", "操作系统", "协议", "数据库", "算法", "加密", "网络", "编译器", "缓存",
             "メモリ", "プロトコル", "データベース", "アルゴリズム", "暗号", "輻輳", "カーネル",
             "コンパイラ"),
    "explain": ("解释", "说明", "原理", "説明", "仕組み"),
    "how": ("如何工作", "怎么工作", "区别", "どのように", "違い"),
    "detail": ("详细", "詳しく", "詳細"),
    "extraction": ("提取", "抽出"),
    "creative": ("诗", "故事", "小说", "詩", "物語", "小説", "作文", "扮演", "假装", "になってください",
                 "昔話", "むかしばなし", "童話"),
    "rewrite": ("翻译", "改写", "翻訳", "書き直", "訳して", "語にして"),
    "careful": ("自然な", "専門用語", "正確", "丁寧", "特許", "契約", "法的", "专业术语", "准确", "地道",
                "专利", "合同"),
    "summary": ("总结", "摘要", "概括", "要約", "まとめ"),
    "chat": ("你好", "谢谢", "こんにちは", "ありがとう", "おはよう"),
    "analysis": ("比较", "分析", "比較"),
}

# The same for Thai, also written without spaces between words. (Not "แปล" alone: "แปลก" is strange,
# "แปลว่า" means "it means"; not "สมมติ", which supposes in sums as well as in play.)
THAI: dict[str, tuple[str, ...]] = {
    "code": ("โค้ด", "ฟังก์ชัน", "เขียนโปรแกรม", "บั๊ก", "สคริปต์"),
    "math": ("คำนวณ", "สมการ", "ค่าเฉลี่ย"),
    "prove": ("พิสูจน์",),
    "puzzle": ("ปริศนา", "พูดโกหก", "พูดจริง"),
    "chance": ("ความน่าจะเป็น",),
    "tech": ("อัลกอริทึม", "ฐานข้อมูล", "เครือข่าย", "หน่วยความจำ", "ระบบปฏิบัติการ"),
    "explain": ("อธิบาย",),
    "how": ("ต่างกันยังไง", "ต่างกันอย่างไร", "ทำงานยังไง", "ทำงานอย่างไร"),
    "detail": ("ละเอียด",),
    "extraction": ("ดึงข้อมูล",),
    "creative": ("กลอน", "นิทาน", "เรื่องสั้น", "แต่งเพลง", "เล่นเป็น"),
    "rewrite": ("แปลเป็น", "แปลให้", "ช่วยแปล", "แปลง", "เขียนใหม่", "เรียบเรียง"),
    "careful": ("สัญญา", "ทางการ", "กฎหมาย"),
    "summary": ("สรุป",),
    "chat": ("สวัสดี", "ขอบคุณ"),
    # Into a language small models write less well: Isan, Northern Thai, Lao, Burmese, Khmer.
    "rare_lang": ("ภาษาอีสาน", "ภาษาเหนือ", "คำเมือง", "ภาษาลาว", "ภาษาพม่า", "ภาษาเขมร"),
    "analysis": ("วิเคราะห์", "เปรียบเทียบ"),
}
# And for Korean: written with spaces, but its particles and endings are glued to the stem ("번역해줘",
# "계산해 주세요", "얼마야"), so a stem is a substring, not a word. (Not "시", a poem, which is also "o'clock"
# and a city; not "몇" alone, which asks the time as well; not "코드", which is in "디스코드"
# and "바코드", nor "버그" beside a game's bug reports to tabulate; not "요약": a health check to
# summarise for a parent went to the smallest model with it, and to a mid model, as its labels ask,
# without.)
KOREAN: dict[str, tuple[str, ...]] = {
    "code": ("함수", "프로그램", "스크립트", "코딩"),
    "math": ("계산", "얼마", "몇 개", "몇개", "몇 명", "몇명", "평균", "방정식", "구하시오", "구해", "넓이",
             "둘레", "이자", "원리금", "퍼센트", "직각"),
    # A right angle, as "angle" is in English (not "각도", an angle: it is inside "시각도", "the time too")
    "math_adv": ("직각",),
    "prove": ("증명해", "증명하"),
    "puzzle": ("퍼즐", "수수께끼", "거짓말쟁이", "논리 문제"),
    "chance": ("확률",),
    "tech": ("알고리즘", "데이터베이스", "메모리", "네트워크", "프로토콜", "암호화", "커널", "운영체제",
             "컴파일러"),
    "explain": ("설명", "원리"),
    "how": ("차이", "어떻게 작동", "작동 원리"),
    "detail": ("자세히", "상세"),
    "extraction": ("추출",),
    "creative": ("소설", "동화", "이야기를", "가사", "역할극", "인 척"),
    "rewrite": ("번역", "옮겨", "다듬어"),
    "careful": ("정확", "계약", "법적", "전문용어", "원문", "자연스럽게"),
    "chat": ("안녕", "고마워", "감사합니다"),
    "analysis": ("비교", "분석"),
}
