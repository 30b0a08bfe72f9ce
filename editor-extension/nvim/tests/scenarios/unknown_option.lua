-- setup() as users call it: a known option tree passes silently; a `model` table at the top level (instead
-- of under `settings`) is reported in one warning and ignored.
return function(H, params)
  local vibethinker = require('vibethinker')
  local function warnings_of(opts)
    local before = #H.messages
    vibethinker.setup(opts)
    local found = {}
    for i = before + 1, #H.messages do
      if H.messages[i][2] == vim.log.levels.WARN then
        table.insert(found, H.messages[i][1])
      end
    end
    return found
  end
  local bad = warnings_of({ model = params.settings.model })
  local settings_after_bad = vim.lsp.config.vibethinker.init_options
  local good = warnings_of({ settings = params.settings, keymaps = false })
  return { bad = bad, settings_after_bad = settings_after_bad, good = good }
end
