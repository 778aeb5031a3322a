package ecrpublic

// Action is the IAM action authenticated pulls need, for the external tests.
const Action = apiAction
