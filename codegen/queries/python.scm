; Tree-sitter queries the task reader uses for Python. Each top-level pattern belongs to the group named by
; its first capture (function, class, comment, import, stdin, loop, call); @name marks a definition's name.

(function_definition name: (identifier) @name) @function
(class_definition name: (identifier) @name) @class
(comment) @comment

(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import

((call function: (identifier) @_f) @stdin (#eq? @_f "input"))
((attribute object: (identifier) @_m attribute: (identifier) @_a) @stdin
  (#eq? @_m "sys") (#match? @_a "^(stdin|__stdin__)$"))
((call function: (identifier) @_f arguments: (argument_list . (integer) @_z)) @stdin
  (#eq? @_f "open") (#eq? @_z "0"))

[(for_statement) (while_statement) (for_in_clause)] @loop
(call function: [(identifier) (attribute)] @callee) @call
