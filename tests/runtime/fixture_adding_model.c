/* fixture_adding_model.c — TEST FIXTURE: the fixture model's descriptor
 * edited by hand to train on the adding problem, whose samples of
 * length 3 ([3, 2]: 6 values) do not fit the model's 4 inputs; nnc would
 * have refused it, the trainer must too. */
#define FIXTURE_TRAIN_DATA "adding length=3 count=10"
#include "fixture_model.c"
