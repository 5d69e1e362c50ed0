"""qwopkit.app: the Streamlit dataset browser and curator (`streamlit run app.py` or `qwop-app`).

- `folder`: the data folder, and the only way from a typed name to a path inside it
- `data`: everything the app reads; the only module that caches (folder + marks as the key)
- `marking`: curation changes with undo, through `qwopkit.dataset.mark`
- `state`: one browser session's state (view, ticked rows, undo stack, messages)
- views, one module each: `overview`, `episode`, `compare`, `curate`
- `charts` (Altair), `replay` (the game's own page in replay mode), `shell` (the page around
  the views), `cli` (`qwop-app`); its benchmark is `qwopkit.bench.app` (`qwop-bench app`)

Floor: applications. The app writes only through the dataset library and imports neither
torch, the learners, the physics core nor the game's host (the game page comes from
`qwopkit.adapter.openqwop.page`): import-linter and tests/test_floors.py check it.
docs/app.md describes it.
"""
