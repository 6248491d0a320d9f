"""The cue rules read misconduct as citizens narrate it, and only when an authority did it."""

from __future__ import annotations

from classifiers.cues import FEATURES, Cues

CUE, BY_AUTHORITY, BY_COMPANY_ONLY, NEGATED_ONLY = (
    FEATURES.index(f) for f in ("cue", "cue_authority", "cue_company_only", "negated_only")
)


def _features(text: str, issue_type: str) -> list[float]:
    return Cues.load().analyse(text).features(issue_type).tolist()


def test_an_officer_who_showed_no_id_and_gave_no_receipt_is_opacity_by_an_authority() -> None:
    text = "城管执法人员来了四个人，没有向我出示任何证件，罚了五百块也不开收据。"
    f = _features(text, "opacity")
    assert f[CUE] == 1.0 and f[BY_AUTHORITY] == 1.0
    phrases = Cues.load().analyse(text).phrases("opacity")
    assert any("证件" in p for p in phrases) and any("收据" in p for p in phrases), phrases


def test_a_property_company_that_publishes_nothing_is_not_an_authoritys_opacity() -> None:
    f = _features("小区物业公司收了维修基金，账目从来不公开，业主都不知道钱花在哪。", "opacity")
    assert f[CUE] == 1.0 and f[BY_AUTHORITY] == 0.0 and f[BY_COMPANY_ONLY] == 1.0


def test_seizure_without_notice_or_a_hearing_is_improper_procedure() -> None:
    text = "镇政府没有任何书面通知就直接拆了我家的棚子，也没给我们陈述申辩的机会。"
    f = _features(text, "improper_procedure")
    assert f[CUE] == 1.0 and f[BY_AUTHORITY] == 1.0


def test_repeated_complaints_left_unanswered_are_inaction() -> None:
    text = "我们三番五次向街道办反映噪音扰民，到现在也没有任何处理结果。"
    assert _features(text, "inaction")[BY_AUTHORITY] == 1.0


def test_a_denied_misconduct_does_not_count() -> None:
    f = _features("执法人员态度很好，并没有乱罚款，只是提醒我们把摊子收进去。", "abuse_of_power")
    assert f[CUE] == 0.0 and f[NEGATED_ONLY] == 1.0


def test_a_plain_question_about_a_fee_standard_names_no_misconduct() -> None:
    text = "请问今年的物业收费标准是多少？补贴发放名单在哪里可以查到？"
    assert Cues.load().keyword_types(text) == []


def _ends_on_word_boundaries(phrase: str, text: str) -> bool:
    from classifiers.segment import _get, cut

    words = cut(_get(), text)
    starts, ends, pos = set(), set(), 0
    for w in words:
        starts.add(pos)
        pos += len(w)
        ends.add(pos)
    at = text.find(phrase)
    return at in starts and at + len(phrase) in ends


def test_a_clerk_reads_the_cue_phrases_as_whole_phrases_without_dangling_words() -> None:
    text = "镇政府也没有任何书面通知就直接拆了我家的棚子，罚了五百块也不开收据。"
    report = Cues.load().analyse(text)
    procedure, opacity = report.phrases("improper_procedure"), report.phrases("opacity")
    assert "没有任何书面通知" in procedure, procedure
    assert "不开收据" in opacity, opacity
    for phrase in [*procedure, *opacity]:
        assert _ends_on_word_boundaries(phrase, text), phrase
        assert not phrase.startswith(("也", "就")) and not phrase.endswith(("就", "直接")), phrase


def test_a_negator_in_an_earlier_sentence_does_not_deny_a_cue() -> None:
    text = "反映了半年一直没有人管。执法记录仪也没开，当场就把车拖走了。"
    assert _features(text, "improper_procedure")[CUE] == 1.0


def test_asking_whether_a_step_was_taken_is_not_saying_it_was_skipped() -> None:
    text = "请问村里修路占我家的地，有没有手续？是不是要先公示？"
    assert _features(text, "improper_procedure")[CUE] == 0.0


def _clause(text: str) -> dict[str, float]:
    from classifiers.cues import CLAUSE_FEATURES

    values = Cues.load().analyse(text).clause_features().tolist()
    return dict(zip(CLAUSE_FEATURES, values, strict=True))


def test_a_developers_delay_told_to_a_leader_is_a_private_partys_failure() -> None:
    f = _clause(
        "尊敬的领导您好！我们小区交房三年了，开发商迟迟不给办房产证，一直拖着。"
        "恳请领导督促开发商尽快办理。"
    )
    assert f["failure_by_company"] > 0 and f["failure_by_authority"] == 0
    assert f["plea"] == 1.0 and f["complained_and_failed"] == 0.0


def test_an_office_that_ignored_repeated_complaints_is_the_actor_of_the_failure() -> None:
    f = _clause("我们多次向街道办反映楼下饭店油烟扰民，街道办一直没有处理。")
    assert f["failure_by_authority"] > 0 and f["failure_by_company"] == 0
    assert f["complained"] == 1.0 and f["complained_and_failed"] == 1.0


def test_an_authority_asked_for_help_is_not_the_actor_of_a_failure() -> None:
    f = _clause("希望有关部门没人管的这片空地能清理一下。")
    assert f["failure_by_authority"] == 0.0
