// Package acrtest imitates, on loopback, what the ACR driver talks to:
// Azure Container Registry's token endpoints in front of a test registry
// ([Registry]) and Microsoft Entra ID's client-credentials token endpoint
// ([Entra]). Every wire fact cites its source.
package acrtest
