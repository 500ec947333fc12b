# bench/bench.mk - the measurements (included by the Makefile)

# bench: dcgan.h against PyTorch on this machine (needs python3-torch); `make bench FULL=--full` for batch 128
bench: stb
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -march=native $(OMP) $(STB_CFLAGS) bench/bench.c -o $(B)/bench -lm
	sh bench/run.sh $(FULL)

# bench-memory: peak resident memory of the study's setting (seed 128x128x3, batch 128, 1,341
# images, one iteration), dcgan.h and PyTorch (several minutes: a full-size iteration each)
bench-memory: stb
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -march=native $(OMP) $(STB_CFLAGS) bench/bench.c -o $(B)/bench -lm
	@echo "peak RSS, GiB (seed 128x128x3, batch 128, 1,341 images, one iteration):"
	@printf "  dcgan.h  "; $(B)/bench --memory | sed 's/^MEMORY //'
	@printf "  PyTorch  "; OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_ref.py --memory --threads $$(nproc) | sed 's/^MEMORY //'

# bench-decode: the cost of decoding each image in a child process, on N full-size JPEGs
# made from the images of SRC (default 1,000 of 1500x1800, written to build/decode_bench)
SRC ?= ../shared/data/kermany224/NORMAL
bench-decode: stb
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(OMP) $(STB_CFLAGS) bench/decode_cost.c -o $(B)/decode_cost -lm
	$(B)/decode_cost $(SRC) $(B)/decode_bench

# bench-judge: what fid --bootstrap/--floor/--prdc/--nearest cost on N + N features of D dims
N ?= 2000
D ?= 2048
bench-judge:
	@mkdir -p $(B)
	$(CC) $(CFLAGS) $(OMP) bench/judge_cost.c -o $(B)/judge_cost -lm
	$(B)/judge_cost $(N) $(D)
