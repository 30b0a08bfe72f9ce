; Tree-sitter queries the task reader uses for C++ (and C). Each top-level pattern belongs to the group
; named by its first capture; @name marks a definition's name.

(function_definition declarator: (function_declarator declarator: (_) @name)) @function
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (_) @name))) @function
(function_definition declarator: (reference_declarator (function_declarator declarator: (_) @name))) @function
(function_definition declarator: (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (_) @name)))) @function
(class_specifier name: (_) @name) @class
(struct_specifier name: (_) @name body: (_)) @class
(comment) @comment

(preproc_include) @import
(using_declaration) @import
(alias_declaration) @import
(type_definition) @import
(preproc_def) @import
(preproc_function_def) @import

((identifier) @stdin (#match? @stdin "^(cin|stdin)$"))
((qualified_identifier name: (identifier) @stdin) (#match? @stdin "^(cin|stdin)$"))
(call_expression function: (identifier) @stdin (#match? @stdin "^(scanf|getchar|getchar_unlocked|gets|fgets|fread|read)$"))
(call_expression function: (qualified_identifier name: (identifier) @stdin) (#match? @stdin "^(scanf|getchar|getline)$"))

[(for_statement) (for_range_loop) (while_statement) (do_statement)] @loop
(call_expression function: (_) @callee) @call
