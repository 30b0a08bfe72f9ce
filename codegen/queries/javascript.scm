; Tree-sitter queries the task reader uses for JavaScript. Each top-level pattern belongs to the group named
; by its first capture; @name marks a definition's name.

(function_declaration name: (identifier) @name) @function
(generator_function_declaration name: (identifier) @name) @function
(method_definition name: (_) @name) @function
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @function
(class_declaration name: (_) @name) @class
(comment) @comment

(import_statement) @import
(lexical_declaration (variable_declarator value: (call_expression function: (identifier) @_r) (#eq? @_r "require"))) @import
(variable_declaration (variable_declarator value: (call_expression function: (identifier) @_r) (#eq? @_r "require"))) @import

((member_expression object: (identifier) @_p property: (property_identifier) @stdin) (#eq? @_p "process") (#eq? @stdin "stdin"))
((call_expression function: (member_expression property: (property_identifier) @_f) arguments: (arguments . (number) @stdin))
  (#eq? @_f "readFileSync") (#eq? @stdin "0"))
((string_fragment) @stdin (#eq? @stdin "/dev/stdin"))

[(for_statement) (for_in_statement) (while_statement) (do_statement)] @loop
(call_expression function: (_) @callee) @call
