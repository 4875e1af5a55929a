import gc

from cases import create_app

app = create_app()
# Objects built at start-up live as long as the process: keep the cyclic garbage collector
# from walking them again and again (each full pass cost ~50 ms in bench/case_list.py).
gc.freeze()
