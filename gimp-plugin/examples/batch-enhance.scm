; Low-Light Enhance for a whole folder, from Script-Fu.
;
; Headless, from a shell (the output folder must exist; existing files in it are replaced):
;   gimp-console-2.10 -i -b '(begin (load "/path/to/batch-enhance.scm")
;                                  (lowlight-batch-enhance "/photos/dark" "/photos/bright" 1.0 "default"))' \
;     -b '(gimp-quit 0)'
; (one -b for both: the batch interpreter forgets definitions between -b commands)
;
; Copied into GIMP's scripts folder (~/.config/GIMP/2.10/scripts/) it also appears as
; Filters > Enhance > Low-Light Enhance a Folder...
;
; Every .png .jpg .jpeg .tif .tiff .webp file (either case) in IN-DIR is loaded, its layers are
; merged, plug-in-lowlight-enhance runs on the result (automatic device and tile size) and the image is
; saved under the same name in OUT-DIR, in the format of its extension. The first file that fails stops
; the run with an error naming it.

(define lowlight-batch-extensions '("png" "jpg" "jpeg" "tif" "tiff" "webp"))

(define (lowlight-batch-basename path)
  (let loop ((parts (strbreakup path "/")))
    (if (null? (cdr parts)) (car parts) (loop (cdr parts)))))

(define (lowlight-batch-files in-dir)
  (let loop ((exts lowlight-batch-extensions) (files '()))
    (if (null? exts)
        files
        (loop (cdr exts)
              (append files
                      (cadr (file-glob (string-append in-dir "/*." (car exts)) 1))
                      (cadr (file-glob (string-append in-dir "/*." (string-upcase (car exts))) 1)))))))

(define (lowlight-batch-enhance-file path out-dir strength model)
  (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE path path)))
         (layer (car (gimp-image-merge-visible-layers image CLIP-TO-IMAGE)))
         (out (string-append out-dir "/" (lowlight-batch-basename path))))
    (plug-in-lowlight-enhance RUN-NONINTERACTIVE image layer strength model 0 0 0)
    (gimp-file-save RUN-NONINTERACTIVE image layer out out)
    (gimp-image-delete image)
    out))

; Returns the number of images written.
(define (lowlight-batch-enhance in-dir out-dir strength model)
  (let loop ((files (lowlight-batch-files in-dir)) (count 0))
    (if (null? files)
        (begin
          (gimp-message (string-append "Low-Light Enhance: " (number->string count) " image(s) written to " out-dir))
          count)
        (begin
          (lowlight-batch-enhance-file (car files) out-dir strength model)
          (loop (cdr files) (+ count 1))))))

(define (script-fu-lowlight-batch-enhance in-dir out-dir strength model)
  (lowlight-batch-enhance in-dir out-dir strength model))

(script-fu-register "script-fu-lowlight-batch-enhance"
  "Low-Light Enhance a _Folder..."
  "Enhances every image in a folder with plug-in-lowlight-enhance and saves the results into another folder"
  "Lowlight contributors"
  "Lowlight contributors"
  "2024"
  ""
  SF-DIRNAME "Input folder" ""
  SF-DIRNAME "Output folder" ""
  SF-ADJUSTMENT "Strength" '(1 0 1 0.05 0.1 2 0)
  SF-STRING "Model" "default")
(script-fu-menu-register "script-fu-lowlight-batch-enhance" "<Image>/Filters/Enhance")
