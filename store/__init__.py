"""The day-file store: what pvsim writes to disk and how, shared by the PV simulator, batch mode, the grid
and the report. It stores rows; it computes no physics (that is :mod:`models`).

- :mod:`store.layout`: where each file lives under the output directory (day files, summaries, grid results,
  sweeps).
- :mod:`store.format`: the day file's CSV headers, the row formatters (vectorised and row by row), the
  writer's row parser, the summary JSON text and :class:`~store.format.OutputError`.
- :mod:`store.reader`: reading day files, whole (a DataFrame) or one meter's day (NumPy arrays, vectorised).
- :mod:`store.durable`: making new directory entries and many files durable (``syncfs``); checking an output
  directory is writable.
- :mod:`store.locking`: the lock on a day file shared by several processes (:class:`~store.locking.FileBusy`).
- :mod:`store.dayfile`: one meter's day file, written idempotently: its index of instants (:mod:`store.instants`),
  catch-up of rows other processes appended, appends and atomic rewrites; interval sums of its rows
  (:mod:`store.intervals`).
- :mod:`store.battery_dayfile`: a day file whose rows carry a battery's columns, computed outside (through
  :mod:`store.columns`) and written in time order; a late row rewrites the day.
- :mod:`store.daystore`: all day files of an output directory: which file a row goes to, the recent ones in
  memory, durable writes (``fsync`` threads or one ``syncfs``).

Imports flow ``common -> models -> store -> services``: nothing here imports a service.
"""
