; Tree-sitter queries the task reader uses for Java. Each top-level pattern belongs to the group named by
; its first capture; @name marks a definition's name.

(method_declaration name: (identifier) @name) @function
(constructor_declaration name: (identifier) @name) @function
(class_declaration name: (identifier) @name) @class
(interface_declaration name: (identifier) @name) @class
(record_declaration name: (identifier) @name) @class
(enum_declaration name: (identifier) @name) @class
[(line_comment) (block_comment)] @comment

(import_declaration) @import

((field_access object: (identifier) @_s field: (identifier) @stdin) (#eq? @_s "System") (#eq? @stdin "in"))

[(for_statement) (enhanced_for_statement) (while_statement) (do_statement)] @loop
(method_invocation name: (identifier) @callee) @call
