// Package ensemble combines etch models: weighted soft voting (the mean of the members'
// probabilities, e.g. the reference study's equal-thirds CNN-GRU ensemble, then RF half /
// ensemble half), hard voting (weighted majority of the members' labels) and stacking (a
// multinomial logistic regression fitted on the members' out-of-fold probabilities).
//
// Members are named models of the same experiment, found through model.Env:
//
//   - Env.Members holds models the runner already built, by name. Normally the runner fitted them
//     earlier in the same trial on the same training data, and the ensemble uses them as they are;
//     with Env.FitMembers set, the ensemble's Fit fits them first.
//   - Env.Build builds a fresh untrained instance of a named model. The ensemble uses it for
//     members missing from Members (then it fits them itself) and, for stacking, to fit one copy
//     of every member per fold of its training data, whose predictions on the held-out fold are
//     the meta-learner's training features. Stacking needs Build.
//
// Since an ensemble is a model, a member may itself be an ensemble: "RF half / ensemble half" is a
// soft vote over the forest and the soft vote of three CNN-GRUs.
//
// The meta-learner is written here (softmax regression with L2 on the weights, not the biases; loss
// and gradient by hand, minimised with a compact L-BFGS): a few dozen lines, where a general ML library
// would add far more than it saves.
package ensemble
