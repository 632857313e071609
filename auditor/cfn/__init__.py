"""CloudFormation values: intrinsic functions resolved where a template fixes them, and the
lenient type checks converters read resolved properties with. Pure; used by the controls'
`import` mappings and by `auditor.bootstrap`."""
