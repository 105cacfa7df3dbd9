# one HDF5 file of two datasets: one chunked with shuffle and gzip (our own
# chunk decoder), one contiguous (read in place); sizes in KiB, "in 1 file"
/usr/bin/python3 -c "
import h5py, numpy as np
with h5py.File('$T/two.h5', 'w') as f:
    f.create_dataset('s/a', data=np.arange(400, dtype='<f4').reshape(100, 4), chunks=(25, 4), shuffle=True, compression='gzip', compression_opts=6)
    f.create_dataset('s/b', data=np.arange(200, dtype='<f4').reshape(50, 4))
"
$SL inspect $T/two.h5 --dataset '/s/*'
$SL inspect $T/two.h5 --dataset '/s/*' --json
