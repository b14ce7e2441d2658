from bot.outbound.channel import split_message


def test_long_text_splits_at_line_boundaries_within_the_byte_limit():
    lines = [f"{i}. 召开支部委员会会议，截止11月30日（周一），需报：会议记录" for i in range(120)]
    parts = split_message("\n".join(lines), 2048)
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)  # nothing lost, nothing cut mid-line
    assert all(p.split("\n")[0] in lines for p in parts)


def test_a_single_overlong_line_is_cut_between_characters_never_inside_one():
    text = "党" * 1000 + "𠮷" * 300  # 3-byte and 4-byte characters
    parts = split_message(text, 2048)
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts) == text
    for p in parts:
        p.encode().decode("utf-8")  # every part is whole UTF-8


def test_short_text_is_one_part():
    assert split_message("签到成功", 2048) == ["签到成功"]
