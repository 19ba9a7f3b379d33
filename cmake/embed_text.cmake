# Writes the text file IN as the C string constant NAME into OUT, a .c file the
# library compiles (its declaration is the including code's business):
# run as cmake -DIN=... -DOUT=... -DNAME=... -P cmake/embed_text.cmake
file(READ "${IN}" text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE "${OUT}.tmp" "/* Generated from ${IN} by cmake/embed_text.cmake. */\nextern const char ${NAME}[];\nconst char ${NAME}[] =\n\"${text}\";\n")
file(RENAME "${OUT}.tmp" "${OUT}")
