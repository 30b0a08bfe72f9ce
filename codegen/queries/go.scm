; Tree-sitter queries the task reader uses for Go. Each top-level pattern belongs to the group named by its
; first capture; @name marks a definition's name.

(function_declaration name: (identifier) @name) @function
(method_declaration name: (field_identifier) @name) @function
(type_declaration (type_spec name: (type_identifier) @name)) @class
(comment) @comment

(import_declaration) @import

((selector_expression operand: (identifier) @_p field: (field_identifier) @stdin)
  (#eq? @_p "os") (#eq? @stdin "Stdin"))
((selector_expression operand: (identifier) @_p field: (field_identifier) @stdin)
  (#eq? @_p "fmt") (#match? @stdin "^Scan"))

(for_statement) @loop
(call_expression function: (_) @callee) @call
