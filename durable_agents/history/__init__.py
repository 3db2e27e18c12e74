"""Histories and drawings: everything read from what Temporal recorded.

- `store`: fetch a run's histories (the workflow and all its children), save and load them as
  JSON, follow them as the server records events, walk a continue-as-new chain.
- `events`: what a history says: what the model was told, the options of each activity.
- `replay`: replay saved histories against today's workflow code (or another version of it).
- `graph`: a typed graph of a run, built from history JSON alone.
- `render`: that graph drawn with Graphviz; `tree`: the same graph as a text tree (the terminal).
- `timeline`: the graph as it was after each event; `timeline_view`: the timeline widget (ipywidgets);
  `watch`: the live view.
"""
