// Package runnertest writes small synthetic flows files for tests of the runner and the CLI:
// classes that differ in packet sizes, timing and a few extra features, so that every model
// family has something to learn, in a second rather than the minutes a captured dataset takes.
package runnertest
