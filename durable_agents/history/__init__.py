"""Histories and drawings: everything read from what Temporal recorded.

- `store`: fetch a run's histories (the workflow and all its children), save and load them as JSON.
- `events`: what a history says: what the model was told, the options of each activity.
- `replay`: replay saved histories against today's workflow code.
- `graph`: a typed graph of a run, built from history JSON alone.
- `render`: that graph drawn with Graphviz.
"""
