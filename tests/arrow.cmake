# Arrow IPC driver tests: the fuzz target of the footer/schema/record batch
# parser (its corpus, tests/fuzz/corpus/arrow_footer/, doubles as the unit
# test's input files, written by Arrow JS; see test_arrow.c).
# unit/test_arrow.c itself is picked up with the other unit tests.
if(SL_HAVE_ARROW)
  list(APPEND SL_FUZZ_TARGETS arrow_footer)
endif()
