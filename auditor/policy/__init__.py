"""Pure IAM-policy semantics: parsing a document, wildcard languages, and what a policy does."""
