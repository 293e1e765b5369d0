"""Work off the GUI thread: the job runner (a thread pool whose answers come back on the GUI
thread), the service calls a page or dialog tracks, and the mail relay's timer. QtCore only,
no widgets; views and adapters use them, services know nothing of them."""
