-- The VibeThinker language server for Neovim's built-in client (0.11+).
--
-- Works on its own: put this folder on 'runtimepath' and call `vim.lsp.enable('vibethinker')`.
-- `require('vibethinker').setup()` adds inline completion, user commands, key maps and a status line.
-- Settings use the server's camelCase tree (see `:help vibethinker-settings`), e.g.
--   vim.lsp.config('vibethinker', { settings = { vibethinker = { generation = { candidates = 8 } } } })

---@type vim.lsp.Config
return {
  cmd = { 'vibethinker-lsp', 'serve' },
  filetypes = {
    'python',
    'cpp',
    'c',
    'java',
    'rust',
    'go',
    'javascript',
    'javascriptreact',
    'typescript',
    'typescriptreact',
  },
  root_markers = {
    'pyproject.toml',
    'setup.py',
    'CMakeLists.txt',
    'Cargo.toml',
    'go.mod',
    'package.json',
    'pom.xml',
    '.git',
  },
  -- The server reads its settings from initializationOptions and pulls the `vibethinker` section of
  -- `settings` with workspace/configuration; vibethinker.setup() fills both from the same table.
  init_options = vim.empty_dict(),
  settings = { vibethinker = vim.empty_dict() },
  handlers = {
    ['vibethinker/status'] = function(_, params, ctx)
      require('vibethinker.status').update(ctx.client_id, params)
    end,
  },
}
