"""kb.text: the one normaliser, tokeniser and stemmer search, ask and the importer share."""

from kb.text import ascii_words, canonical, fold, normalise, stem, tokens


def test_normalise_makes_typed_variants_equal() -> None:
    # Full-width letters, a non-breaking space and a stray control character, as pasted.
    assert normalise("ＬＤＮ\u00a0dose\x07") == "LDN dose"


def test_tokens_keep_numbers_whole_and_split_units() -> None:
    assert tokens("LDN 4.5mg, titrated from 1.5 mg") == [
        "ldn",
        "4.5",
        "mg",
        "titrated",
        "from",
        "1.5",
        "mg",
    ]


def test_stem_joins_word_forms_but_not_other_words() -> None:
    assert stem("titrated") == stem("titration") == stem("titrating")
    assert stem("metformin") != stem("methadone")
    assert stem("4.5") == "4.5"


def test_fold_compares_titles_across_dashes_and_case() -> None:
    assert fold("Low-Dose Naltrexone (LDN)\u2014Review.") == fold("low dose naltrexone LDN review")


def test_ascii_words_and_canonical() -> None:
    assert ascii_words("Schöne Café, 2021") == ["schone", "cafe", "2021"]
    assert canonical("a\r\nb\rc") == "a\nb\nc"
