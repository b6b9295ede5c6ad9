// The API's vocabulary (dates, limits) lives in a module without network
// dependencies, so image processing can use it without linking AsyncHTTPClient;
// everyone who imports ClassyAPI sees it as before.
@_exported import ClassyVocabulary
