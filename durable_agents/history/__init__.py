"""Histories and drawings: everything read from what Temporal recorded.

- `store`: fetch a run's histories (the workflow and all its children), save and load them as JSON.
- `events`: what a history says: what the model was told, the options of each activity.
- `replay`: replay saved histories against today's workflow code.
- `graph`: a typed graph of a run, built from history JSON alone.
- `render`: that graph drawn with Graphviz.
- `timeline`: the graph as it stood after each event of a run (children's events on the same clock).
- `watch`: watching it in a notebook: the timeline widget, and the live view while a run goes.
"""
