; Tree-sitter queries the task reader uses for Rust. Each top-level pattern belongs to the group named by
; its first capture; @name marks a definition's name.

(function_item name: (identifier) @name) @function
(impl_item type: (_) @name) @class
(trait_item name: (type_identifier) @name) @class
[(line_comment) (block_comment)] @comment

(use_declaration) @import
(extern_crate_declaration) @import

((call_expression function: [(identifier) (scoped_identifier)] @stdin) (#match? @stdin "(^|::)stdin$"))

[(for_expression) (while_expression) (loop_expression)] @loop
(call_expression function: (_) @callee) @call
