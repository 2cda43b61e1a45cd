"""The metric grid's widgets: one chart per metric (:mod:`.chart`) in collapsible sections (:mod:`.section`)."""
