"""Own words (SPEC "Own words"): a message that is not an exact command is
read here (reading.py: pure, against a World of this month's tasks and the
branch's roll) and answered (answer.py: queries at once, writes proposed and
done only after 是)."""
