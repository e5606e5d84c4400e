// The rule lives in common: the API refuses bad names before a build exists, and the
// agent checks the task again before running anything.
export { isCommitId, isImageTag, refNameProblem } from '@leengine/common';
