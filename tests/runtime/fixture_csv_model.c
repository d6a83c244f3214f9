/* fixture_csv_model.c — TEST FIXTURE: the fixture model trained from a
 * CSV file (fixture.csv, 4 inputs then an integer label), looked up like
 * any relative data path (--data-dir in the tests). */
#define FIXTURE_TRAIN_DATA "csv 0=\"fixture.csv\" label=-1 header=1 scale=1"
#include "fixture_model.c"
